"""Typed queries over the film rental business (``film_rental.postgres.sql``),
as an application would write them against the introspected and built tables.

``tests/test_existing_databases.py`` introspects the database, builds the file
into the package ``existing_film_rental``, runs ``mypy --strict`` over this
module with it, then runs every function here against the database and
compares its result with the same query in raw SQL. The functions return
plain values (tuples in a fixed order) so that the comparison is exact.
"""

from __future__ import annotations

import datetime
import json
import uuid
from decimal import Decimal

from existing_film_rental.film_rental import (
    Actor,
    Category,
    Customer,
    Film,
    FilmActor,
    FilmCategory,
    Inventory,
    Language,
    LoyaltyTier,
    MpaaRating,
    Payment,
    Rental,
    Staff,
    StaffNote,
    Store,
)

from runtime import Avg, Count, Engine, Max, Sum

# -- reads ------------------------------------------------------------------------


async def films_rated(rating: MpaaRating) -> list[tuple[int, str, MpaaRating | None]]:
    """A native enum compared with a member."""
    return (
        await Film.select(Film.film_id, Film.title, Film.rating)
        .where(Film.rating == rating)
        .order_by(Film.film_id)
        .output(as_tuples=True)
    )


async def adult_films() -> int:
    """``is_in`` with enum members, as a count."""
    return await Film.count().where(Film.rating.is_in([MpaaRating.r, MpaaRating.nc_17]))


async def loyalty_counts() -> list[tuple[LoyaltyTier, int]]:
    """Grouped and ordered by a native enum whose type name has a space: in the
    type's order (bronze, silver, gold), not alphabetically."""
    return (
        await Customer.select(Customer.loyalty, Count())
        .group_by(Customer.loyalty)
        .order_by(Customer.loyalty)
        .output(as_tuples=True)
    )


async def loyal_customers(tier: LoyaltyTier) -> list[int]:
    """An enum compared by its order (PostgreSQL compares enums by sort order)."""
    return (
        await Customer.select(Customer.customer_id)
        .where((Customer.loyalty >= tier) & (Customer.active == True))  # noqa: E712
        .order_by(Customer.customer_id)
        .output(as_list=True)
    )


async def revenue_by_store() -> list[tuple[int, Decimal, int]]:
    """What the materialized view ``sales_by_store`` holds: a sum grouped by a
    key two joins away (payment -> staff -> store)."""
    return (
        await Payment.select(Payment.staff_id.store_id, Sum(Payment.amount), Count())
        .group_by(Payment.staff_id.store_id)
        .order_by(Payment.staff_id.store_id)
        .output(as_tuples=True)
    )


async def film_categories() -> list[tuple[int, str, str, Decimal]]:
    """What the view ``film_list`` shows for films with a category: the
    composite-key join table, joined both ways."""
    return (
        await FilmCategory.select(
            FilmCategory.film_id,
            FilmCategory.film_id.title,
            FilmCategory.category_id.name,
            FilmCategory.film_id.rental_rate,
        )
        .order_by(FilmCategory.film_id)
        .order_by(FilmCategory.category_id.name)
        .output(as_tuples=True)
    )


async def busiest_actors(limit: int) -> list[tuple[int, str, int]]:
    """The actors in most films: a count over a composite-key table, ordered by it."""
    return (
        await FilmActor.select(FilmActor.actor_id, FilmActor.actor_id.last_name, Count())
        .group_by(FilmActor.actor_id, FilmActor.actor_id.last_name)
        .order_by(Count(), ascending=False)
        .order_by(FilmActor.actor_id)
        .limit(limit)
        .output(as_tuples=True)
    )


async def cast_member(actor_id: int, film_id: int) -> tuple[str, str] | None:
    """One row by its whole composite key, then both of its keys' rows."""
    link = await FilmActor.objects().get(
        (FilmActor.actor_id == actor_id) & (FilmActor.film_id == film_id)
    )
    if link is None:
        return None
    actor = await link.get_related(FilmActor.actor_id)
    film = await link.get_related(FilmActor.film_id)
    return (actor.last_name, film.title)


async def rental_story(rental_id: int) -> tuple[str, str, str, datetime.datetime]:
    """A chain of ``get_related``: rental -> inventory -> film, rental -> customer,
    rental -> staff."""
    rental = await Rental.objects().get(Rental.rental_id == rental_id)
    assert rental is not None
    inventory = await rental.get_related(Rental.inventory_id)
    film = await inventory.get_related(Inventory.film_id)
    customer = await rental.get_related(Rental.customer_id)
    staff = await rental.get_related(Rental.staff_id)
    return (film.title, customer.last_name, staff.username, rental.rental_date)


async def store_managers() -> list[tuple[int, str, int]]:
    """Around the cycle with a join path: store -> its manager -> the manager's store."""
    return (
        await Store.select(
            Store.store_id, Store.manager_staff_id.username, Store.manager_staff_id.store_id
        )
        .order_by(Store.store_id)
        .output(as_tuples=True)
    )


async def managed_by_own_staff() -> list[tuple[int, int, bool]]:
    """Around the cycle with ``get_related``: is each store's manager one of its staff?"""
    found = []
    for store in await Store.objects().order_by(Store.store_id):
        manager = await store.get_related(Store.manager_staff_id)
        home = await manager.get_related(Staff.store_id)
        found.append((store.store_id, manager.staff_id, home.store_id == store.store_id))
    return found


async def films_with_feature(feature: str) -> list[int]:
    """An array column's element test."""
    return (
        await Film.select(Film.film_id)
        .where(Film.special_features.any(feature))
        .order_by(Film.film_id)
        .output(as_list=True)
    )


async def notes_of_kind(kind: str) -> list[tuple[uuid.UUID, str, datetime.datetime]]:
    """A JSONB path compared with JSON text, ordered by a column with a space in its name."""
    return (
        await StaffNote.select(StaffNote.note_id, StaffNote.body, StaffNote.written_at)
        .where(StaffNote.meta.arrow("kind") == json.dumps(kind))
        .order_by(StaffNote.written_at)
        .order_by(StaffNote.note_id)
        .output(as_tuples=True)
    )


async def open_rentals(before: datetime.datetime) -> list[tuple[int, datetime.datetime]]:
    """Rentals not returned, rented before a time (timestamptz)."""
    return (
        await Rental.select(Rental.rental_id, Rental.rental_date)
        .where(Rental.return_date.is_null() & (Rental.rental_date < before))
        .order_by(Rental.rental_date)
        .order_by(Rental.rental_id)
        .output(as_tuples=True)
    )


async def rates_by_rating() -> list[tuple[MpaaRating | None, Decimal, int | None]]:
    """Avg of a numeric (an exact Decimal) and Max, grouped by a nullable enum."""
    return (
        await Film.select(Film.rating, Avg(Film.rental_rate), Max(Film.length))
        .group_by(Film.rating)
        .order_by(Film.rating)
        .output(as_tuples=True)
    )


async def customer_countries(limit: int) -> list[tuple[int, str, str]]:
    """A join path three keys deep: customer -> address -> city -> country."""
    return (
        await Customer.select(
            Customer.customer_id,
            Customer.address_id.city_id.city,
            Customer.address_id.city_id.country_id.country,
        )
        .order_by(Customer.customer_id)
        .limit(limit)
        .output(as_tuples=True)
    )


async def language_names() -> list[str]:
    """A ``char(20)`` column, read without its padding."""
    return await Language.select(Language.name).order_by(Language.language_id).output(as_list=True)


async def film_casts(limit: int) -> list[tuple[int, list[str]]]:
    """The many-to-many through the composite-key table (the attribute added to
    the introspected file): each film's actors."""
    return (
        await Film.select(Film.film_id, Film.actors(Actor.last_name, as_list=True))
        .order_by(Film.film_id)
        .limit(limit)
        .output(as_tuples=True)
    )


async def filmography(actor_id: int) -> list[tuple[int, str]]:
    """The other side of it, as objects."""
    actor = await Actor.objects().get(Actor.actor_id == actor_id)
    assert actor is not None
    return [(film.film_id, film.title) for film in await actor.get_m2m(Actor.films)]


async def long_films(minutes: int) -> list[tuple[int, str, int | None, list[str] | None]]:
    """Whole rows as objects, of a table whose database has columns the file
    leaves out (``release_year``, ``fulltext``)."""
    films = await Film.objects().where(Film.length > minutes).order_by(Film.film_id).limit(20)
    return [(f.film_id, f.title, f.length, f.special_features) for f in films]


async def staff_pictures() -> list[tuple[int, bytes | None]]:
    """A ``bytea`` column whose database name is PascalCase."""
    return (
        await Staff.select(Staff.staff_id, Staff.picture)
        .order_by(Staff.staff_id)
        .output(as_tuples=True)
    )


async def latest_rentals(limit: int) -> list[tuple[int, int]]:
    """``DISTINCT ON``: each customer's latest rental."""
    return (
        await Rental.select(Rental.customer_id, Rental.rental_id)
        .distinct(on=[Rental.customer_id])
        .order_by(Rental.customer_id)
        .order_by(Rental.rental_date, ascending=False)
        .limit(limit)
        .output(as_tuples=True)
    )


async def joined_without_email(since: datetime.date) -> list[tuple[int, datetime.date]]:
    """A date compared, and a nullable unique column that is null."""
    return (
        await Customer.select(Customer.customer_id, Customer.create_date)
        .where((Customer.create_date >= since) & Customer.email.is_null())
        .order_by(Customer.customer_id)
        .output(as_tuples=True)
    )


# -- writes -------------------------------------------------------------------------


async def open_store(db: Engine, store_id: int, staff_id: int, address_id: int) -> None:
    """Both rows of the cycle in one transaction: the store first, managed by
    staff that does not exist until the transaction's end (the keys are deferred)."""
    async with db.transaction():
        await Store(store_id=store_id, manager_staff_id=staff_id, address_id=address_id).save()
        await Staff(
            staff_id=staff_id,
            first_name="Mirela",
            last_name="Stan",
            address_id=address_id,
            store_id=store_id,
            username=f"mstan{staff_id}",
        ).save()


async def rent_and_pay(
    db: Engine,
    inventory_id: int,
    customer_id: int,
    staff_id: int,
    amount: Decimal,
    when: datetime.datetime,
) -> tuple[int, int]:
    """A rental and its payment in one transaction; returns their keys."""
    async with db.transaction():
        rental = await Rental.objects().create(
            rental_date=when, inventory_id=inventory_id, customer_id=customer_id, staff_id=staff_id
        )
        payment = await Payment.objects().create(
            customer_id=customer_id,
            staff_id=staff_id,
            rental_id=rental,
            amount=amount,
            payment_date=when,
        )
    return (rental.rental_id, payment.payment_id)


async def return_rental(rental_id: int, when: datetime.datetime) -> None:
    """An object changed and saved (an update by its key)."""
    rental = await Rental.objects().get(Rental.rental_id == rental_id)
    assert rental is not None
    rental.return_date = when
    await rental.save()


async def raise_rates(rating: MpaaRating, by: Decimal) -> list[int]:
    """An update with column arithmetic, filtered on an enum; the table's
    trigger sets ``last_update``. Returns the changed keys."""
    return (
        await Film.update({Film.rental_rate: Film.rental_rate + by})
        .where(Film.rating == rating)
        .returning(Film.film_id)
        .output(as_list=True)
    )


async def write_note(staff_id: int, body: str, kind: str) -> uuid.UUID:
    """A row whose uuid key and timestamp the defaults fill, with JSONB."""
    note = await StaffNote.objects().create(
        staff_id=staff_id, body=body, meta=json.dumps({"kind": kind})
    )
    return note.note_id


async def upgrade(customer_id: int, tier: LoyaltyTier) -> LoyaltyTier:
    """An enum written through ``update()`` and read back as an object."""
    await Customer.update(loyalty=tier).where(Customer.customer_id == customer_id)
    customer = await Customer.objects().get(Customer.customer_id == customer_id)
    assert customer is not None
    return customer.loyalty


async def add_film(title: str, rating: MpaaRating, features: list[str]) -> int:
    """A new row through the table's defaults; the database fills the columns
    the file leaves out with theirs."""
    film = await Film.objects().create(
        title=title, language_id=1, rating=rating, special_features=features, length=90
    )
    return film.film_id


async def add_feature(film_id: int, feature: str) -> None:
    """An array appended to in ``update()``."""
    await Film.update({Film.special_features: Film.special_features.append(feature)}).where(
        Film.film_id == film_id
    )


async def drop_category(name: str) -> int:
    """A delete of the composite-key table whose condition joins; returns the
    category's key, which ``get_or_create`` finds."""
    await FilmCategory.delete().where(FilmCategory.category_id.name == name)
    return (await Category.objects().get_or_create(Category.name == name)).category_id
