-- Runs once, when the postgres volume is first created (docker-entrypoint-initdb.d), as the
-- POSTGRES_USER, connected to POSTGRES_DB (tripline: write store, device registry, alert store).

-- The search store: PostGIS in a database of its own on the same server.
CREATE DATABASE tripline_search;
\connect tripline_search
CREATE EXTENSION IF NOT EXISTS postgis;
