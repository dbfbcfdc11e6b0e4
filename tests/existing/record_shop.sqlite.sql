-- A record shop on SQLite, written by hand as an application would have it:
-- PascalCase names, names with spaces, composite keys, a foreign key over two
-- columns, a foreign key to a unique non-key column, a cycle of foreign keys
-- (Employee <-> Customer), CHECK constraints (one of them an enumeration),
-- a view and a trigger.

CREATE TABLE "Genre" (
    "GenreId" INTEGER PRIMARY KEY,
    "Name" VARCHAR(120) NOT NULL UNIQUE
);

CREATE TABLE "MediaType" (
    "MediaTypeId" INTEGER PRIMARY KEY,
    "Name" VARCHAR(120) NOT NULL
);

CREATE TABLE "Artist" (
    "ArtistId" INTEGER PRIMARY KEY,
    "Name" VARCHAR(120) NOT NULL,
    "Country Code" CHAR(2)
);

CREATE TABLE "Album" (
    "AlbumId" INTEGER PRIMARY KEY,
    "Title" VARCHAR(160) NOT NULL,
    "ArtistId" INTEGER NOT NULL REFERENCES "Artist" ("ArtistId") ON DELETE CASCADE,
    "Released" DATE
);
CREATE INDEX "IFK_AlbumArtistId" ON "Album" ("ArtistId");

CREATE TABLE "Track" (
    "TrackId" INTEGER PRIMARY KEY,
    "Name" VARCHAR(200) NOT NULL,
    "AlbumId" INTEGER REFERENCES "Album" ("AlbumId") ON DELETE SET NULL,
    "MediaTypeId" INTEGER NOT NULL REFERENCES "MediaType" ("MediaTypeId"),
    "GenreId" INTEGER REFERENCES "Genre" ("GenreId"),
    "Milliseconds" INTEGER NOT NULL,
    "UnitPrice" NUMERIC(10, 2) NOT NULL DEFAULT '0.99',
    CONSTRAINT "track_length_positive" CHECK ("Milliseconds" > 0),
    CONSTRAINT "track_price_positive" CHECK ("UnitPrice" >= 0)
);
CREATE INDEX "IFK_TrackAlbumId" ON "Track" ("AlbumId");

CREATE TABLE "Playlist" (
    "PlaylistId" INTEGER PRIMARY KEY,
    "Name" VARCHAR(120) NOT NULL
);

CREATE TABLE "Playlist Track" (
    "PlaylistId" INTEGER NOT NULL REFERENCES "Playlist" ("PlaylistId") ON DELETE CASCADE,
    "TrackId" INTEGER NOT NULL REFERENCES "Track" ("TrackId") ON DELETE CASCADE,
    PRIMARY KEY ("PlaylistId", "TrackId")
);

-- Employee and Customer refer to each other: a cycle, deferred so that both
-- rows can be written in one transaction.
CREATE TABLE "Employee" (
    "EmployeeId" INTEGER PRIMARY KEY,
    "LastName" VARCHAR(20) NOT NULL,
    "FirstName" VARCHAR(20) NOT NULL,
    "ReportsTo" INTEGER REFERENCES "Employee" ("EmployeeId"),
    "HireDate" TIMESTAMP,
    "Email" VARCHAR(60) UNIQUE,
    "FavouriteCustomerId" INTEGER
        REFERENCES "Customer" ("CustomerId") DEFERRABLE INITIALLY DEFERRED
);

CREATE TABLE "Customer" (
    "CustomerId" INTEGER PRIMARY KEY,
    "FirstName" VARCHAR(40) NOT NULL,
    "LastName" VARCHAR(20) NOT NULL,
    "Email" VARCHAR(60) NOT NULL UNIQUE,
    "SupportRepId" INTEGER REFERENCES "Employee" ("EmployeeId") DEFERRABLE INITIALLY DEFERRED,
    "Tier" TEXT NOT NULL DEFAULT 'basic',
    CONSTRAINT "customer_tier" CHECK ("Tier" IN ('basic', 'plus', 'pro'))
);

CREATE TABLE "Invoice" (
    "InvoiceId" INTEGER PRIMARY KEY,
    "CustomerId" INTEGER NOT NULL REFERENCES "Customer" ("CustomerId"),
    "BillingEmail" VARCHAR(60) REFERENCES "Customer" ("Email"),
    "InvoiceDate" TIMESTAMP NOT NULL,
    "Status" TEXT NOT NULL DEFAULT 'draft',
    "Total" NUMERIC(10, 2) NOT NULL DEFAULT '0',
    CONSTRAINT "invoice_status" CHECK ("Status" IN ('draft', 'paid', 'void'))
);
CREATE INDEX "IFK_InvoiceCustomerId" ON "Invoice" ("CustomerId");

CREATE TABLE "Invoice Line" (
    "InvoiceId" INTEGER NOT NULL REFERENCES "Invoice" ("InvoiceId") ON DELETE CASCADE,
    "LineNo" INTEGER NOT NULL,
    "TrackId" INTEGER NOT NULL REFERENCES "Track" ("TrackId"),
    "UnitPrice" NUMERIC(10, 2) NOT NULL,
    "Quantity" INTEGER NOT NULL DEFAULT 1,
    PRIMARY KEY ("InvoiceId", "LineNo"),
    CONSTRAINT "line_quantity_positive" CHECK ("Quantity" > 0)
);

-- A refund is for one invoice line: a foreign key over both of its key columns.
CREATE TABLE "Refund" (
    "RefundId" INTEGER PRIMARY KEY,
    "InvoiceId" INTEGER NOT NULL,
    "LineNo" INTEGER NOT NULL,
    "Amount" NUMERIC(10, 2) NOT NULL,
    "Reason" TEXT,
    FOREIGN KEY ("InvoiceId", "LineNo") REFERENCES "Invoice Line" ("InvoiceId", "LineNo")
        ON DELETE CASCADE
);

CREATE VIEW "Track Sales" AS
    SELECT t."TrackId" AS "TrackId", t."Name" AS "Name",
           COALESCE(SUM(l."Quantity"), 0) AS "Sold"
    FROM "Track" t LEFT JOIN "Invoice Line" l ON l."TrackId" = t."TrackId"
    GROUP BY t."TrackId", t."Name";

CREATE TRIGGER "invoice_total" AFTER INSERT ON "Invoice Line" BEGIN
    UPDATE "Invoice" SET "Total" = "Total" + NEW."UnitPrice" * NEW."Quantity"
    WHERE "InvoiceId" = NEW."InvoiceId";
END;
