'use strict';
// The order entry page (order_documents.entry): show each chosen item's stock on hand and price,
// each line's subtotal and the order's total while the lines are typed. Only a preview: the
// service prices the lines again when the draft is saved, and its total is the one kept.
{
    const $ = django.jQuery;

    // What the search answered for a line's item (unit_price, on_hand), or what the page was rendered with.
    function itemOf(select) {
        const chosen = $(select).select2('data')[0];
        if (!chosen || !chosen.id) {
            return null;
        }
        const rendered = chosen.element ? chosen.element.dataset : {};
        return {
            unitPrice: chosen.unit_price ?? rendered.unit_price,
            onHand: chosen.on_hand ?? rendered.on_hand,
        };
    }

    function cents(text) {
        const value = Number.parseFloat(text);
        return Number.isFinite(value) ? Math.round(value * 100) : null;
    }

    function money(centsValue) {
        return (centsValue / 100).toFixed(2);
    }

    function refresh() {
        let total = 0;
        $('#order-lines tr.order-line').each(function() {
            const row = $(this);
            const item = itemOf(row.find('select.admin-autocomplete')[0]);
            const facts = row.find('.item-facts');
            const priceInput = row.find('input[name$="-unit_price"]');
            const quantity = Number.parseInt(row.find('input[name$="-quantity"]').val(), 10);
            facts.text('');
            row.find('.line-subtotal').text('');
            if (!item) {
                return;
            }
            const parts = [];
            if (item.onHand !== undefined) {
                parts.push(`${item.onHand} on hand`);
            }
            if (item.unitPrice !== undefined) {
                parts.push(`unit price ${item.unitPrice}`);
                priceInput.attr('placeholder', item.unitPrice);
            }
            facts.text(parts.join(' · '));
            const price = priceInput.val().trim() ? cents(priceInput.val()) : cents(item.unitPrice);
            if (price !== null && Number.isInteger(quantity) && quantity > 0) {
                row.find('.line-subtotal').text(money(price * quantity));
                total += price * quantity;
            }
        });
        $('#order-total').text(money(total));
    }

    $(function() {
        $('#order-lines').on('change input', 'input', refresh);
        $('#order-lines').on('select2:select select2:clear change', 'select', refresh);
        refresh();
    });
}
