"""Create table customer; create table order.

Made by `piccolo-gen migrations new --auto`. Edit it as needed before it is applied; once
applied it must not change (its checksum is recorded): make a new migration instead.
"""

from decimal import Decimal

from runtime.migrations import Column, CreateTable, ForeignKey, Migration, Table, Type

migration = Migration(
    id="0002_customer_orders",
    parent="0001_initial",
    operations=[
        CreateTable(
            Table(
                "customer",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("email", Type("Email", length=255), unique=True, default=""),
                    Column("name", Type("Varchar", length=100), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "order",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column(
                        "customer",
                        Type("Email", length=255),
                        references=ForeignKey("customer", column="email"),
                    ),
                    Column(
                        "gift_for",
                        Type("Email", length=255),
                        null=True,
                        references=ForeignKey(
                            "customer", column="email", on_delete="set_null"
                        ),
                    ),
                    Column(
                        "total",
                        Type("Numeric", digits=(10, 2)),
                        default=Decimal("0.00"),
                    ),
                ),
            )
        ),
    ],
)
