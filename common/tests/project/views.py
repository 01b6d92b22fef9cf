"""Small views used by common's tests."""

from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class WidgetSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=10)
    quantity = serializers.IntegerField(min_value=1)


class WidgetView(APIView):
    required_permissions = {"get": "items.read", "post": "items.write"}

    def get(self, request):
        return Response({"name": "sprocket"})

    def post(self, request):
        serializer = WidgetSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response(serializer.validated_data, status=201)
