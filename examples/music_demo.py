"""The main job: fill the music tables of an SQLite database and query them.

The tables come from the project's migrations, as in an application: run
from the repository root after ``piccolo-gen build``::

    piccolo-gen migrations forwards --database sqlite:///music.sqlite
    python examples/music_demo.py music.sqlite
"""

from __future__ import annotations

import asyncio
import decimal
import sys
from pathlib import Path

from generated import music
from generated.music import Band, Concert, Manager, Ticket, Venue
from runtime import ProgrammingError, SQLiteEngine, use_engine


async def main(path: Path) -> None:
    engine = SQLiteEngine(path=path)
    use_engine(engine, *music.TABLES)
    # Start from empty tables, so the demo can run again on one database
    # (referencing tables first).
    try:
        for table in reversed(music.TABLES):
            await table.delete(force=True)
    except ProgrammingError as error:
        raise SystemExit(
            f"{error}\nthe tables are made by the migrations: "
            f"piccolo-gen migrations forwards --database sqlite:///{path}"
        ) from None

    guido, graydon = await Manager.insert(Manager(name="Guido"), Manager(name="Graydon"))
    pythonistas, rustaceans, _ = await Band.insert(
        Band(name="Pythonistas", manager=guido, popularity=1000),
        Band(name="Rustaceans", manager=graydon, popularity=2000),
        Band(name="Unmanaged", popularity=5),
    )
    (arena,) = await Venue.insert(Venue(name="Arena", capacity=1000))
    concert = Concert(band_1=pythonistas, band_2=rustaceans, venue=arena)
    await concert.save()
    await Ticket.insert(Ticket(concert=concert, price=decimal.Decimal("49.50")))

    print(f"database: {path}")
    # One query object, run and then shown: the SQL printed below is the SQL
    # that produced these rows.
    first = Band.select(Band.name, Band.manager.name).order_by(Band.popularity, ascending=False)
    print("\nBand.select(Band.name, Band.manager.name).order_by(Band.popularity, ascending=False)")
    for row in await first:
        print("   ", row)

    popular = await Band.select(Band.name).where(Band.popularity > 100).output(as_list=True)
    print("\nbands with popularity > 100:", popular)

    headliner = await Concert.select(
        Concert.band_1.name, Concert.band_2.name, Concert.venue.name
    ).first()
    print("concert:", headliner)

    band = await Band.objects().get(Band.name == "Pythonistas")
    assert band is not None
    manager = await band.get_related(Band.manager)
    print(f"{band.name} is managed by {manager.name if manager else 'nobody'}")
    print("tickets:", await Ticket.count(), "| bands:", await Band.count())
    print("\nSQL of the first query:")
    print("   ", first)


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "music.sqlite")))
