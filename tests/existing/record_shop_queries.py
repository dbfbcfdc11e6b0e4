"""Typed queries over the record shop (``record_shop.sqlite.sql``), as an
application would write them against the introspected and built tables.

``tests/test_existing_databases.py`` introspects the database, builds the file
into the package ``existing_record_shop``, runs ``mypy --strict`` over this
module with it, then runs every function here against the database and
compares its result with the same query in raw SQL. The functions return
plain values (tuples in a fixed order) so that the comparison is exact.
"""

from __future__ import annotations

import datetime
import json
from decimal import Decimal

from existing_record_shop.record_shop import (
    Album,
    Artist,
    Customer,
    Employee,
    Genre,
    Invoice,
    InvoiceLine,
    Playlist,
    PlaylistTrack,
    Refund,
    Track,
)

from runtime import Avg, Count, Engine, Max, Min, Sum

# -- reads ------------------------------------------------------------------------


async def tracks_in_genre(genre: str) -> list[tuple[int, str, str | None]]:
    """Tracks of a genre with their album's title: two joins through nullable keys."""
    return (
        await Track.select(Track.track_id, Track.name, Track.album_id.title)
        .where(Track.genre_id.name == genre)
        .order_by(Track.track_id)
        .output(as_tuples=True)
    )


async def albums_per_country() -> list[tuple[str | None, int]]:
    """A count per value of a column with a space in its name, reached through a key."""
    return (
        await Album.select(Album.artist_id.country_code, Count())
        .group_by(Album.artist_id.country_code)
        .order_by(Album.artist_id.country_code)
        .output(as_tuples=True)
    )


async def top_customers(limit: int) -> list[tuple[int, str, Decimal]]:
    """The customers who paid most (a sum over an enumeration-checked status)."""
    return (
        await Invoice.select(Invoice.customer_id, Invoice.customer_id.last_name, Sum(Invoice.total))
        .where(Invoice.status == "paid")
        .group_by(Invoice.customer_id, Invoice.customer_id.last_name)
        .order_by(Sum(Invoice.total), ascending=False)
        .order_by(Invoice.customer_id)
        .limit(limit)
        .output(as_tuples=True)
    )


async def invoice_line(invoice_id: int, line_no: int) -> tuple[int, int, int, Decimal, int] | None:
    """One line of an invoice, by the whole composite key."""
    line = await InvoiceLine.objects().get(
        (InvoiceLine.invoice_id == invoice_id) & (InvoiceLine.line_no == line_no)
    )
    if line is None:
        return None
    return (line.invoice_id, line.line_no, line.track_id, line.unit_price, line.quantity)


async def refunded_lines() -> list[tuple[int, int, int, Decimal, Decimal]]:
    """Each refund with its invoice line, through the foreign key over two columns."""
    found = []
    for refund in await Refund.objects().order_by(Refund.refund_id):
        line = await refund.get_related(Refund.invoice_id_line_no)
        found.append(
            (refund.refund_id, line.invoice_id, line.line_no, line.unit_price, refund.amount)
        )
    return found


async def favourites() -> list[tuple[int, str, str | None, str | None]]:
    """Employee -> favourite customer -> that customer's support rep: a join
    path around the cycle, the Employee table twice."""
    return (
        await Employee.select(
            Employee.employee_id,
            Employee.last_name,
            Employee.favourite_customer_id.email,
            Employee.favourite_customer_id.support_rep_id.last_name,
        )
        .order_by(Employee.employee_id)
        .output(as_tuples=True)
    )


async def support_reps() -> list[tuple[int, str | None, int | None]]:
    """Each customer's support rep and the rep's favourite customer, with
    ``get_related`` both ways around the cycle."""
    found: list[tuple[int, str | None, int | None]] = []
    for customer in await Customer.objects().order_by(Customer.customer_id):
        rep = await customer.get_related(Customer.support_rep_id)
        if rep is None:
            found.append((customer.customer_id, None, None))
            continue
        favourite = await rep.get_related(Employee.favourite_customer_id)
        found.append(
            (
                customer.customer_id,
                rep.last_name,
                None if favourite is None else favourite.customer_id,
            )
        )
    return found


async def managers() -> list[tuple[str, str | None]]:
    """A key to the table itself: who reports to whom."""
    return (
        await Employee.select(Employee.first_name, Employee.reports_to.first_name)
        .order_by(Employee.employee_id)
        .output(as_tuples=True)
    )


async def billed_to_email() -> list[tuple[int, str | None, str | None]]:
    """Invoices with a billing email, joined on that unique column (not the key)."""
    return (
        await Invoice.select(
            Invoice.invoice_id, Invoice.billing_email, Invoice.billing_email.last_name
        )
        .where(Invoice.billing_email.is_not_null())
        .order_by(Invoice.invoice_id)
        .output(as_tuples=True)
    )


async def customers_per_tier(tiers: list[str]) -> list[tuple[str, int]]:
    """A text column checked by ``IN (...)`` (SQLite's enumeration)."""
    return (
        await Customer.select(Customer.tier, Count())
        .where(Customer.tier.is_in(tiers))
        .group_by(Customer.tier)
        .order_by(Customer.tier)
        .output(as_tuples=True)
    )


async def track_sales() -> list[tuple[int, str, int]]:
    """What the view ``Track Sales`` computes, for the tracks sold."""
    return (
        await InvoiceLine.select(
            InvoiceLine.track_id, InvoiceLine.track_id.name, Sum(InvoiceLine.quantity)
        )
        .group_by(InvoiceLine.track_id, InvoiceLine.track_id.name)
        .order_by(InvoiceLine.track_id)
        .output(as_tuples=True)
    )


async def long_tracks(milliseconds: int, price: Decimal) -> list[tuple[int, int, Decimal]]:
    """Rows as objects, filtered on two columns, a page of them."""
    tracks = (
        await Track.objects()
        .where((Track.milliseconds > milliseconds) & (Track.unit_price >= price))
        .order_by(Track.milliseconds, ascending=False)
        .order_by(Track.track_id)
        .limit(10)
        .offset(5)
    )
    return [(t.track_id, t.milliseconds, t.unit_price) for t in tracks]


async def playlist_lengths() -> list[tuple[int, str, int, int]]:
    """The join table of the composite key: a count and a sum over a join path."""
    return (
        await PlaylistTrack.select(
            PlaylistTrack.playlist_id,
            PlaylistTrack.playlist_id.name,
            Count(),
            Sum(PlaylistTrack.track_id.milliseconds),
        )
        .group_by(PlaylistTrack.playlist_id, PlaylistTrack.playlist_id.name)
        .order_by(PlaylistTrack.playlist_id)
        .output(as_tuples=True)
    )


async def albums_with_artists() -> list[tuple[int, str, str, datetime.date]]:
    """Albums with their artist prefetched (one query), released ones only."""
    albums = (
        await Album.objects(Album.artist_id)
        .where(Album.released.is_not_null())
        .order_by(Album.album_id)
    )
    found = []
    for album in albums:
        assert album.released is not None
        found.append((album.album_id, album.title, album.artist_id.name, album.released))
    return found


async def albums_of(artist_id: int) -> list[tuple[str, str]]:
    """A reverse lookup: the albums pointing at an artist."""
    artist = await Artist.objects().get(Artist.artist_id == artist_id)
    assert artist is not None
    albums = await artist.get_reverse(Album).order_by(Album.title).order_by(Album.album_id)
    return [(artist.name, album.title) for album in albums]


async def invoices_between(
    start: datetime.datetime, end: datetime.datetime
) -> list[tuple[int, datetime.datetime, str]]:
    """Timestamps compared with datetimes (ISO text on SQLite)."""
    return (
        await Invoice.select(Invoice.invoice_id, Invoice.invoice_date, Invoice.status)
        .where((Invoice.invoice_date >= start) & (Invoice.invoice_date < end))
        .order_by(Invoice.invoice_date)
        .order_by(Invoice.invoice_id)
        .output(as_tuples=True)
    )


async def track_statistics() -> tuple[int, float, Decimal, Decimal, int] | None:
    """Aggregates without ``group_by``: one row."""
    return (
        await Track.select(
            Count(),
            Avg(Track.milliseconds),
            Min(Track.unit_price),
            Max(Track.unit_price),
            Count(distinct=[Track.genre_id]),
        )
        .output(as_tuples=True)
        .first()
    )


async def artist_names(pattern: str) -> list[str]:
    """A case-insensitive pattern, one column as a list."""
    return (
        await Artist.select(Artist.name)
        .where(Artist.name.ilike(pattern))
        .order_by(Artist.name)
        .order_by(Artist.artist_id)
        .output(as_list=True)
    )


async def playlist_tracks() -> list[tuple[int, list[str]]]:
    """The many-to-many through the joining table of a composite key (the
    attribute added to the introspected file), one list per playlist."""
    return (
        await Playlist.select(Playlist.playlist_id, Playlist.tracks(Track.name, as_list=True))
        .order_by(Playlist.playlist_id)
        .output(as_tuples=True)
    )


async def tracks_like(pattern: str) -> list[tuple[int, str, str | None]]:
    """A case-sensitive pattern, and a join path two keys deep (track -> album -> artist)."""
    return (
        await Track.select(Track.track_id, Track.name, Track.album_id.artist_id.name)
        .where(Track.name.like(pattern))
        .order_by(Track.track_id)
        .output(as_tuples=True)
    )


async def media_in_use() -> list[str]:
    """``distinct`` over a joined column."""
    return (
        await Track.select(Track.media_type_id.name)
        .distinct()
        .order_by(Track.media_type_id.name)
        .output(as_list=True)
    )


async def any_refund_for(reason: str) -> bool:
    """``exists`` with a condition on a nullable text column."""
    return await Refund.exists().where(Refund.reason == reason)


async def genres_as_json() -> list[tuple[int, str]]:
    """Rows as one JSON document (``output(as_json=True)``), parsed."""
    text = await Genre.select().order_by(Genre.genre_id).output(as_json=True)
    return [(row["genre_id"], row["name"]) for row in json.loads(text)]


# -- writes -------------------------------------------------------------------------


async def record_sale(
    db: Engine, customer_id: int, track_ids: list[int], when: datetime.datetime
) -> int:
    """An invoice and its lines in one transaction; the database's trigger sums
    the total. Returns the new invoice's key."""
    async with db.transaction():
        invoice = await Invoice.objects().create(customer_id=customer_id, invoice_date=when)
        for number, track_id in enumerate(track_ids, start=1):
            track = await Track.objects().get(Track.track_id == track_id)
            assert track is not None
            await InvoiceLine.objects().create(
                invoice_id=invoice,
                line_no=number,
                track_id=track,
                unit_price=track.unit_price,
                quantity=number,
            )
    return invoice.invoice_id


async def invoice_total(invoice_id: int) -> tuple[str, Decimal]:
    """An invoice read back as an object (its total as the trigger left it)."""
    invoice = await Invoice.objects().get(Invoice.invoice_id == invoice_id)
    assert invoice is not None
    return (invoice.status, invoice.total)


async def pay(invoice_id: int) -> None:
    """An update by the key, of a checked column."""
    await Invoice.update(status="paid").where(Invoice.invoice_id == invoice_id)


async def hire_with_favourite(db: Engine, employee_id: int, customer_id: int) -> None:
    """Both rows of the cycle in one transaction: the employee first, pointing at
    a customer that does not exist until the transaction's end (the keys are
    deferred)."""
    async with db.transaction():
        await Employee(
            employee_id=employee_id,
            last_name="Okafor",
            first_name="Ada",
            favourite_customer_id=customer_id,
        ).save()
        await Customer(
            customer_id=customer_id,
            first_name="Bo",
            last_name="Lind",
            email=f"bo.lind.{customer_id}@example.com",
            support_rep_id=employee_id,
            tier="pro",
        ).save()


async def reprice(genre: str, factor: Decimal) -> int:
    """An update whose condition joins (a subquery on the key), with column
    arithmetic rounded to the column's scale. Returns the rows changed."""
    changed = (
        await Track.update({Track.unit_price: Track.unit_price * factor})
        .where(Track.genre_id.name == genre)
        .returning(Track.track_id)
    )
    return len(changed)


async def void_invoice(invoice_id: int) -> None:
    """A delete that cascades to the lines and, through the key over two
    columns, to their refunds."""
    invoice = await Invoice.objects().get(Invoice.invoice_id == invoice_id)
    assert invoice is not None
    await invoice.remove()


async def relink(playlist_id: int, add: list[int], remove: list[int]) -> list[int]:
    """Links of the many-to-many added and removed; returns the playlist's tracks."""
    playlist = await Playlist.objects().get(Playlist.playlist_id == playlist_id)
    assert playlist is not None
    await playlist.add_m2m(
        *await Track.objects().where(Track.track_id.is_in(add)), m2m=Playlist.tracks
    )
    await playlist.remove_m2m(
        *await Track.objects().where(Track.track_id.is_in(remove)), m2m=Playlist.tracks
    )
    return [track.track_id for track in await playlist.get_m2m(Playlist.tracks)]


async def bump_quantities(prefix: str) -> None:
    """An update of the composite-key table whose condition joins: it goes
    through ``(a, b) IN (SELECT a, b ...)`` on the spaced table."""
    await InvoiceLine.update(quantity=InvoiceLine.quantity + 1).where(
        InvoiceLine.track_id.name.startswith(prefix)
    )


async def change_line(invoice_id: int, line_no: int, quantity: int) -> tuple[int, Decimal]:
    """A composite-key row changed and saved (an update by its whole key), then
    refreshed from the database."""
    line = await InvoiceLine.objects().get(
        (InvoiceLine.invoice_id == invoice_id) & (InvoiceLine.line_no == line_no)
    )
    assert line is not None
    line.quantity = quantity
    await line.save()
    await line.refresh()
    return (line.quantity, line.unit_price)


async def genre_ids(names: list[str]) -> list[int]:
    """``get_or_create`` on a unique name, and ``on_conflict`` inserts that keep
    the rows already there."""
    await Genre.insert(*(Genre(name=name) for name in names)).on_conflict(
        target=Genre.name, action="DO NOTHING"
    )
    return [(await Genre.objects().get_or_create(Genre.name == name)).genre_id for name in names]
