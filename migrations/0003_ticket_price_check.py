"""Add check ticket_price_check on ticket (price >= 0).

Made by `piccolo-gen migrations new --auto`. Edit it as needed before it is applied; once
applied it must not change (its checksum is recorded): make a new migration instead.
"""

from runtime.migrations import AddCheck, Check, Migration

# Lint (piccolo-gen migrations lint):
#   data check ticket.ticket_price_check:
#     a new check constraint fails if a row of the table does not pass it (price >= 0)
migration = Migration(
    id="0003_ticket_price_check",
    parent="0002_customer_orders",
    operations=[
        AddCheck(table="ticket", check=Check("ticket_price_check", "price >= 0")),
    ],
)
