"""Create table playlist; create table song; create table playlist_entry; and 3 more.

Made by `piccolo-gen migrations new --auto`. Edit it as needed before it is applied; once
applied it must not change (its checksum is recorded): make a new migration instead.
"""

from runtime.migrations import (
    Column,
    CompositeForeignKey,
    CreateTable,
    ForeignKey,
    Migration,
    Table,
    Type,
)

migration = Migration(
    id="0004_composite_keys",
    parent="0003_ticket_price_check",
    operations=[
        CreateTable(
            Table(
                "playlist",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("name", Type("Varchar", length=50), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "song",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("title", Type("Varchar", length=50), default=""),
                ),
            )
        ),
        CreateTable(
            Table(
                "playlist_entry",
                columns=(
                    Column(
                        "playlist", Type("Integer"), references=ForeignKey("playlist")
                    ),
                    Column("song", Type("Integer"), references=ForeignKey("song")),
                    Column("note", Type("Text"), null=True),
                ),
                composite_key=("playlist", "song"),
            )
        ),
        CreateTable(
            Table(
                "play",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("playlist_id", Type("Integer")),
                    Column("song_id", Type("Integer")),
                    Column("seconds", Type("Integer"), default=0),
                ),
                foreign_keys=(
                    CompositeForeignKey(
                        "play_entry_fkey",
                        ("playlist_id", "song_id"),
                        "playlist_entry",
                        ("playlist", "song"),
                    ),
                ),
            )
        ),
        CreateTable(
            Table(
                "review",
                columns=(
                    Column("id", Type("Serial"), primary_key=True),
                    Column("playlist_id", Type("Integer"), null=True),
                    Column("song_id", Type("Integer"), null=True),
                    Column("stars", Type("Integer"), default=0),
                ),
                foreign_keys=(
                    CompositeForeignKey(
                        "review_entry_fkey",
                        ("playlist_id", "song_id"),
                        "playlist_entry",
                        ("playlist", "song"),
                        on_delete="set_null",
                    ),
                ),
            )
        ),
        CreateTable(
            Table(
                "cell",
                columns=(
                    Column("sheet", Type("Varchar", length=20)),
                    Column("row", Type("Integer")),
                    Column("col", Type("Integer"), default=1),
                    Column("value", Type("Text"), default=""),
                ),
                composite_key=("sheet", "row", "col"),
            )
        ),
    ],
)
