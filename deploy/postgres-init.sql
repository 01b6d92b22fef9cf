-- One database per service (CONTRACT §1): no service reads another's tables.
CREATE DATABASE contact;
CREATE DATABASE auth;
CREATE DATABASE inventory;
CREATE DATABASE sales;
CREATE DATABASE purchase;
