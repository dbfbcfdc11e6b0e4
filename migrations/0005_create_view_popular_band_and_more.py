"""Create view popular_band; create view concert_day; create materialized view band_concerts.

Made by `piccolo-gen migrations new --auto`. Edit it as needed before it is applied; once
applied it must not change (its checksum is recorded): make a new migration instead.
"""

from runtime.migrations import CreateView, Index, Migration, Type, View, ViewColumn

# Lint (piccolo-gen migrations lint):
#   data materialized-view band_concerts:
#     PostgreSQL runs its query when the view is created (and whenever a change creates it again):
#     as slow as the query, and it fails if a row makes the query fail
migration = Migration(
    id="0005_create_view_popular_band_and_more",
    parent="0004_composite_keys",
    operations=[
        CreateView(
            View(
                "popular_band",
                sql="SELECT band.id AS band, band.name AS name, manager.name AS manager_name, band.popularity AS popularity FROM band LEFT JOIN manager ON manager.id = band.manager WHERE band.popularity >= 100",
                columns=(
                    ViewColumn("band", Type("Integer")),
                    ViewColumn("name", Type("Varchar", length=50)),
                    ViewColumn("manager_name", Type("Varchar", length=50)),
                    ViewColumn("popularity", Type("Integer")),
                ),
            )
        ),
        CreateView(
            View(
                "concert_day",
                sql={
                    "postgres": "SELECT concert.id AS concert, venue.name AS venue, CAST(concert.starts AS date) AS day FROM concert JOIN venue ON venue.id = concert.venue",
                    "sqlite": "SELECT concert.id AS concert, venue.name AS venue, date(concert.starts) AS day FROM concert JOIN venue ON venue.id = concert.venue",
                },
                columns=(
                    ViewColumn("concert", Type("Integer")),
                    ViewColumn("venue", Type("Varchar", length=100)),
                    ViewColumn("day", Type("Date")),
                ),
            )
        ),
        CreateView(
            View(
                "band_concerts",
                sql="SELECT band.id AS band, band.name AS name, count(concert.id) AS concerts FROM band LEFT JOIN concert ON concert.band_1 = band.id OR concert.band_2 = band.id GROUP BY band.id, band.name",
                columns=(
                    ViewColumn("band", Type("Integer")),
                    ViewColumn("name", Type("Varchar", length=50)),
                    ViewColumn("concerts", Type("BigInt")),
                ),
                materialized=True,
                indexes=(
                    Index("band_concerts_pkey", ("band",), unique=True),
                    Index("band_concerts_concerts", ("concerts",)),
                ),
            )
        ),
    ],
)
