-- A film rental business on PostgreSQL, written by hand as an application
-- would have it: enum types, a domain, composite keys, a cycle of foreign
-- keys (store <-> staff, deferrable), CHECK constraints, arrays, JSONB,
-- a tsvector column, a view, a materialized view, a trigger function, and
-- names in PascalCase and with spaces.

CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
CREATE TYPE "Loyalty Tier" AS ENUM ('bronze', 'silver', 'gold');
CREATE DOMAIN year AS integer CHECK (VALUE >= 1901 AND VALUE <= 2155);

CREATE FUNCTION last_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.last_update = CURRENT_TIMESTAMP;
    RETURN NEW;
END $$;

CREATE TABLE country (
    country_id serial PRIMARY KEY,
    country varchar(50) NOT NULL,
    last_update timestamp NOT NULL DEFAULT now()
);

CREATE TABLE city (
    city_id serial PRIMARY KEY,
    city varchar(50) NOT NULL,
    country_id integer NOT NULL REFERENCES country (country_id) ON DELETE RESTRICT,
    last_update timestamp NOT NULL DEFAULT now()
);
CREATE INDEX idx_fk_country_id ON city (country_id);

CREATE TABLE address (
    address_id serial PRIMARY KEY,
    address varchar(50) NOT NULL,
    district varchar(20) NOT NULL,
    city_id integer NOT NULL REFERENCES city (city_id),
    postal_code varchar(10),
    phone varchar(20) NOT NULL
);

CREATE TABLE language (
    language_id serial PRIMARY KEY,
    name char(20) NOT NULL
);

CREATE TABLE film (
    film_id serial PRIMARY KEY,
    title varchar(255) NOT NULL,
    description text,
    release_year year,
    language_id integer NOT NULL REFERENCES language (language_id),
    rental_duration smallint NOT NULL DEFAULT 3,
    rental_rate numeric(4, 2) NOT NULL DEFAULT 4.99,
    length smallint,
    rating mpaa_rating DEFAULT 'G',
    special_features text[],
    fulltext tsvector,
    last_update timestamp NOT NULL DEFAULT now(),
    CONSTRAINT film_rate_positive CHECK (rental_rate >= 0),
    CONSTRAINT film_length_positive CHECK (length > 0)
);
CREATE INDEX film_title_idx ON film (title);
CREATE TRIGGER last_updated BEFORE UPDATE ON film
    FOR EACH ROW EXECUTE FUNCTION last_updated();

CREATE TABLE actor (
    actor_id serial PRIMARY KEY,
    first_name varchar(45) NOT NULL,
    last_name varchar(45) NOT NULL
);
CREATE INDEX idx_actor_last_name ON actor (last_name);

CREATE TABLE film_actor (
    actor_id integer NOT NULL REFERENCES actor (actor_id) ON DELETE CASCADE,
    film_id integer NOT NULL REFERENCES film (film_id) ON DELETE CASCADE,
    PRIMARY KEY (actor_id, film_id)
);

CREATE TABLE category (
    category_id serial PRIMARY KEY,
    name varchar(25) NOT NULL UNIQUE
);

CREATE TABLE film_category (
    film_id integer NOT NULL REFERENCES film (film_id) ON DELETE CASCADE,
    category_id integer NOT NULL REFERENCES category (category_id),
    PRIMARY KEY (film_id, category_id)
);

-- A store has a manager, who is staff of a store: a cycle, deferred so that
-- both rows can be written in one transaction.
CREATE TABLE store (
    store_id serial PRIMARY KEY,
    manager_staff_id integer NOT NULL,
    address_id integer NOT NULL REFERENCES address (address_id)
);

CREATE TABLE staff (
    staff_id serial PRIMARY KEY,
    first_name varchar(45) NOT NULL,
    last_name varchar(45) NOT NULL,
    address_id integer NOT NULL REFERENCES address (address_id),
    email varchar(50),
    store_id integer NOT NULL REFERENCES store (store_id) DEFERRABLE INITIALLY DEFERRED,
    active boolean NOT NULL DEFAULT true,
    username varchar(16) NOT NULL UNIQUE,
    "Picture" bytea
);

ALTER TABLE store ADD CONSTRAINT store_manager_staff_id_fkey
    FOREIGN KEY (manager_staff_id) REFERENCES staff (staff_id) DEFERRABLE INITIALLY DEFERRED;

CREATE TABLE customer (
    customer_id serial PRIMARY KEY,
    store_id integer NOT NULL REFERENCES store (store_id),
    first_name varchar(45) NOT NULL,
    last_name varchar(45) NOT NULL,
    email varchar(50) UNIQUE,
    address_id integer NOT NULL REFERENCES address (address_id),
    active boolean NOT NULL DEFAULT true,
    create_date date NOT NULL DEFAULT CURRENT_DATE,
    "Loyalty" "Loyalty Tier" NOT NULL DEFAULT 'bronze'
);

CREATE TABLE inventory (
    inventory_id serial PRIMARY KEY,
    film_id integer NOT NULL REFERENCES film (film_id),
    store_id integer NOT NULL REFERENCES store (store_id)
);

CREATE TABLE rental (
    rental_id serial PRIMARY KEY,
    rental_date timestamptz NOT NULL,
    inventory_id integer NOT NULL REFERENCES inventory (inventory_id),
    customer_id integer NOT NULL REFERENCES customer (customer_id),
    return_date timestamptz,
    staff_id integer NOT NULL REFERENCES staff (staff_id),
    CONSTRAINT rental_once UNIQUE (rental_date, inventory_id, customer_id)
);

CREATE TABLE payment (
    payment_id serial PRIMARY KEY,
    customer_id integer NOT NULL REFERENCES customer (customer_id),
    staff_id integer NOT NULL REFERENCES staff (staff_id),
    rental_id integer REFERENCES rental (rental_id) ON DELETE SET NULL,
    amount numeric(5, 2) NOT NULL,
    payment_date timestamptz NOT NULL,
    CONSTRAINT payment_amount_positive CHECK (amount >= 0)
);

CREATE TABLE "StaffNote" (
    "NoteId" uuid PRIMARY KEY,
    "StaffId" integer NOT NULL REFERENCES staff (staff_id) ON DELETE CASCADE,
    "Body" text NOT NULL,
    "Meta" jsonb NOT NULL DEFAULT '{}',
    "Written At" timestamptz NOT NULL DEFAULT now()
);

CREATE VIEW film_list AS
    SELECT f.film_id AS fid, f.title, c.name AS category, f.rental_rate AS price,
           f.length, f.rating
    FROM film f
    LEFT JOIN film_category fc ON fc.film_id = f.film_id
    LEFT JOIN category c ON c.category_id = fc.category_id;

CREATE MATERIALIZED VIEW sales_by_store AS
    SELECT st.store_id, sum(p.amount) AS total_sales, count(*) AS payments
    FROM payment p
    JOIN staff s ON s.staff_id = p.staff_id
    JOIN store st ON st.store_id = s.store_id
    GROUP BY st.store_id;
CREATE UNIQUE INDEX sales_by_store_store_id ON sales_by_store (store_id);
