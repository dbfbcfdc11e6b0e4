"""Create table scalars; create table nullables; create table defaults; and 22 more.

Made by `piccolo-gen migrations new --auto`. Edit it as needed before it is applied; once
applied it must not change (its checksum is recorded): make a new migration instead.
"""

import datetime
from decimal import Decimal

from runtime.migrations import (
    UUID4,
    Column,
    CreateTable,
    DateNow,
    ForeignKey,
    Index,
    Migration,
    Table,
    TimeNow,
    TimestampNow,
    TimestamptzNow,
    Type,
    Unique,
)

migration = Migration(
    id="0001_initial",
    parent=None,
    operations=[
        CreateTable(
            Table(
                "scalars",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("v_varchar", Type("Varchar", length=20), default=""),
                    Column("v_char", Type("Char", length=3), default=""),
                    Column("v_text", Type("Text"), default=""),
                    Column("v_secret", Type("Secret"), default=""),
                    Column("v_email", Type("Email", length=255), default=""),
                    Column("v_integer", Type("Integer"), default=0),
                    Column("v_bigint", Type("BigInt"), default=0),
                    Column("v_smallint", Type("SmallInt"), default=0),
                    Column("v_real", Type("Real"), default=0.0),
                    Column("v_double", Type("DoublePrecision"), default=0.0),
                    Column(
                        "v_numeric",
                        Type("Numeric", digits=(10, 3)),
                        default=Decimal("0.000"),
                    ),
                    Column("v_boolean", Type("Boolean"), default=False),
                    Column("v_date", Type("Date"), default=DateNow()),
                    Column("v_time", Type("Time"), default=TimeNow()),
                    Column("v_timestamp", Type("Timestamp"), default=TimestampNow()),
                    Column("v_timestamptz", Type("Timestamptz"), default=TimestamptzNow()),
                    Column("v_interval", Type("Interval"), default=datetime.timedelta(0)),
                    Column("v_uuid", Type("UUID"), default=UUID4()),
                    Column("v_json", Type("JSON"), default="{}"),
                    Column("v_jsonb", Type("JSONB"), default="{}"),
                    Column("v_bytea", Type("Bytea"), default=b""),
                    Column("v_ints", Type("Array", element=Type("Integer")), default=[]),
                    Column(
                        "v_strings",
                        Type("Array", element=Type("Varchar", length=10)),
                        default=[],
                    ),
                    Column("v_dates", Type("Array", element=Type("Date")), default=[]),
                ),
            )
        ),
        CreateTable(
            Table(
                "nullables",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("v_varchar", Type("Varchar", length=20), null=True),
                    Column("v_char", Type("Char", length=3), null=True),
                    Column("v_text", Type("Text"), null=True),
                    Column("v_secret", Type("Secret"), null=True),
                    Column("v_email", Type("Email", length=255), null=True),
                    Column("v_integer", Type("Integer"), null=True),
                    Column("v_bigint", Type("BigInt"), null=True),
                    Column("v_smallint", Type("SmallInt"), null=True),
                    Column("v_real", Type("Real"), null=True),
                    Column("v_double", Type("DoublePrecision"), null=True),
                    Column("v_numeric", Type("Numeric", digits=(10, 3)), null=True),
                    Column("v_boolean", Type("Boolean"), null=True),
                    Column("v_date", Type("Date"), null=True),
                    Column("v_time", Type("Time"), null=True),
                    Column("v_timestamp", Type("Timestamp"), null=True),
                    Column("v_timestamptz", Type("Timestamptz"), null=True),
                    Column("v_interval", Type("Interval"), null=True),
                    Column("v_uuid", Type("UUID"), null=True),
                    Column("v_json", Type("JSON"), null=True),
                    Column("v_jsonb", Type("JSONB"), null=True),
                    Column("v_bytea", Type("Bytea"), null=True),
                    Column("v_ints", Type("Array", element=Type("Integer")), null=True),
                    Column(
                        "v_strings",
                        Type("Array", element=Type("Varchar", length=10)),
                        null=True,
                    ),
                    Column("v_dates", Type("Array", element=Type("Date")), null=True),
                ),
            )
        ),
        CreateTable(
            Table(
                "defaults",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("label", Type("Varchar", length=20), default="anon"),
                    Column("code", Type("Char", length=2), default="xy"),
                    Column("amount", Type("Integer"), default=7),
                    Column("ratio", Type("Real"), default=0.5),
                    Column("price", Type("Numeric", digits=(6, 2)), default=Decimal("9.99")),
                    Column("active", Type("Boolean"), default=True),
                    Column("born", Type("Date"), default=datetime.date(2000, 1, 2)),
                    Column("day", Type("Date"), default=DateNow()),
                    Column("alarm", Type("Time"), default=datetime.time(7, 30)),
                    Column("clock", Type("Time"), default=TimeNow()),
                    Column("created", Type("Timestamp"), default=TimestampNow()),
                    Column("created_tz", Type("Timestamptz"), default=TimestamptzNow()),
                    Column(
                        "fixed_tz",
                        Type("Timestamptz"),
                        default=datetime.datetime(2024, 1, 31, 12, 0, tzinfo=datetime.UTC),
                    ),
                    Column("wait", Type("Interval"), default=datetime.timedelta(seconds=90)),
                    Column("token", Type("UUID"), default=UUID4()),
                    Column("settings", Type("JSON"), default='{"theme": "dark"}'),
                    Column("tags", Type("Array", element=Type("Integer")), default=[1, 2]),
                    Column(
                        "words",
                        Type("Array", element=Type("Text")),
                        default=["a", "it's"],
                    ),
                    Column("note", Type("Text"), null=True),
                ),
            )
        ),
        CreateTable(
            Table(
                "account",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("username", Type("Varchar", length=50), default=""),
                    Column("email", Type("Email", length=255), default=""),
                    Column("password", Type("Secret"), default=""),
                    Column("profile", Type("JSONB"), null=True),
                ),
            )
        ),
        CreateTable(
            Table(
                "warehouse",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("code", Type("Varchar", length=10), unique=True, default=""),
                    Column("city", Type("Varchar", length=50), index=True, default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "stock_item",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("warehouse", Type("Integer"), references=ForeignKey("warehouse")),
                    Column("sku", Type("Varchar", length=20), default=""),
                    Column("bin", Type("Varchar", length=10), null=True),
                    Column("quantity", Type("Integer"), default=0),
                ),
                indexes=(
                    Index("stock_item_sku_quantity", ("sku", "quantity")),
                    Index("stock_item_bin_slot", ("warehouse", "bin"), unique=True),
                ),
                unique=(Unique("stock_item_warehouse_sku_key", ("warehouse", "sku")),),
            )
        ),
        CreateTable(
            Table(
                "price_tier",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("line", Type("Varchar", length=20), default=""),
                    Column("min_quantity", Type("Integer"), default=0),
                    Column(
                        "price",
                        Type("Numeric", digits=(10, 2)),
                        default=Decimal("0.00"),
                    ),
                ),
                unique=(Unique("price_tier_line_min_quantity_key", ("line", "min_quantity")),),
            )
        ),
        CreateTable(
            Table(
                "artist",
                columns=(
                    Column("id", Type("Integer"), primary_key=True),
                    Column("name", Type("Varchar", length=50), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "country",
                columns=(
                    Column("code", Type("Varchar", length=2), primary_key=True),
                    Column("name", Type("Text"), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "ticker",
                columns=(Column("symbol", Type("Text"), primary_key=True),),
            )
        ),
        CreateTable(
            Table(
                "station",
                columns=(Column("number", Type("BigInt"), primary_key=True),),
            )
        ),
        CreateTable(
            Table(
                "slot",
                columns=(Column("number", Type("SmallInt"), primary_key=True),),
            )
        ),
        CreateTable(
            Table(
                "album",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("artist", Type("Integer"), references=ForeignKey("artist")),
                    Column("title", Type("Varchar", length=50), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "edition",
                columns=(Column("id", Type("Integer"), primary_key=True),),
            )
        ),
        CreateTable(
            Table(
                "token",
                columns=(
                    Column("id", Type("UUID"), primary_key=True),
                    Column("label", Type("Text"), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "manager",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("name", Type("Varchar", length=50), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "band",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("name", Type("Varchar", length=50), unique=True, default=""),
                    Column(
                        "manager",
                        Type("Integer"),
                        null=True,
                        references=ForeignKey("manager", on_delete="set_null"),
                    ),
                    Column("popularity", Type("Integer"), index=True, default=0),
                ),
            )
        ),
        CreateTable(
            Table(
                "genre",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("name", Type("Varchar", length=50), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "genre_to_band",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column(
                        "band",
                        Type("Integer"),
                        index=True,
                        references=ForeignKey("band"),
                    ),
                    Column(
                        "genre",
                        Type("Integer"),
                        index=True,
                        references=ForeignKey("genre"),
                    ),
                ),
            )
        ),
        CreateTable(
            Table(
                "venue",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("name", Type("Varchar", length=100), default=""),
                    Column("capacity", Type("Integer"), null=True),
                ),
            )
        ),
        CreateTable(
            Table(
                "concert",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("band_1", Type("Integer"), references=ForeignKey("band")),
                    Column("band_2", Type("Integer"), references=ForeignKey("band")),
                    Column("venue", Type("Integer"), references=ForeignKey("venue")),
                    Column("starts", Type("Timestamp"), default=TimestampNow()),
                ),
            )
        ),
        CreateTable(
            Table(
                "ticket",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("concert", Type("Integer"), references=ForeignKey("concert")),
                    Column("price", Type("Numeric", digits=(5, 2)), default=Decimal("0.00")),
                ),
            )
        ),
        CreateTable(
            Table(
                "shirt",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("size", Type("Varchar", length=1), default="s"),
                ),
            )
        ),
        CreateTable(
            Table(
                "category",
                columns=(
                    Column("id", Type("UUID"), primary_key=True),
                    Column("name", Type("Varchar", length=60), default=""),
                    Column(
                        "parent",
                        Type("UUID"),
                        null=True,
                        references=ForeignKey("category"),
                    ),
                ),
            )
        ),
        CreateTable(
            Table(
                "product",
                columns=(
                    Column("id", Type("UUID"), primary_key=True),
                    Column("name", Type("Varchar", length=100), index=True, default=""),
                    Column(
                        "price",
                        Type("Numeric", digits=(10, 2)),
                        default=Decimal("0.00"),
                    ),
                    Column("in_stock", Type("Boolean"), default=True),
                    Column("released", Type("Date"), null=True),
                    Column("created", Type("Timestamp"), default=TimestampNow()),
                    Column("attributes", Type("JSON"), default="{}"),
                    Column("status", Type("Varchar", length=10), default="draft"),
                    Column("category", Type("UUID"), references=ForeignKey("category")),
                    Column(
                        "band",
                        Type("Integer"),
                        null=True,
                        references=ForeignKey("band", on_delete="set_null"),
                    ),
                    Column("weight_kg", Type("DoublePrecision"), null=True),
                ),
            )
        ),
    ],
)
