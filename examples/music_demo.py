"""The main job: build the music tables in SQLite, fill them, and query them.

Run from the repository root after ``piccolo-gen build``::

    python examples/music_demo.py [path/to/database.sqlite]
"""

from __future__ import annotations

import asyncio
import decimal
import sys
import tempfile
from pathlib import Path

from generated import music
from generated.music import Band, Concert, Manager, Ticket, Venue
from runtime import SQLiteEngine, create_tables, drop_tables, use_engine


async def main(path: Path) -> None:
    engine = SQLiteEngine(path=path)
    use_engine(engine, *music.TABLES)
    await drop_tables(*music.TABLES, if_exists=True)
    await create_tables(*music.TABLES)

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
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(tempfile.gettempdir()) / "piccolo_gen_music.sqlite"
    )
    asyncio.run(main(target))
