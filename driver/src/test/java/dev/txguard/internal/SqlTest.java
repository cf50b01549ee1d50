package dev.txguard.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SqlTest {

    private static Dialect dialect(String name) {
        switch (name) {
            case "pg": return Dialect.POSTGRESQL;
            case "my": return Dialect.MYSQL;
            case "h2": return Dialect.H2;
            case "lite": return Dialect.SQLITE;
            case "derby": return Dialect.DERBY;
            default: return Dialect.STANDARD;
        }
    }

    private static int kind(String name) {
        switch (name) {
            case "BEGIN": return Sql.BEGIN;
            case "MODES": return Sql.BEGIN_WITH_MODES;
            case "COMMIT": return Sql.COMMIT;
            case "ROLLBACK": return Sql.ROLLBACK;
            case "AC_ON": return Sql.AUTOCOMMIT_ON;
            case "AC_OFF": return Sql.AUTOCOMMIT_OFF;
            case "DDL": return Sql.IMPLICIT_COMMIT;
            case "UNSUPPORTED": return Sql.UNSUPPORTED_CONTROL;
            case "MULTI": return Sql.MULTI_WITH_CONTROL;
            case "ISOLATION": return Sql.ISOLATION_CHANGE;
            default: return Sql.OTHER;
        }
    }

    @ParameterizedTest(name = "[{0}] {1} -> {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
        "h2|BEGIN|BEGIN",
        "h2|  begin ; |BEGIN",
        "pg|BEGIN WORK|BEGIN",
        "pg|begin transaction|BEGIN",
        "pg|BEGIN ISOLATION LEVEL SERIALIZABLE|MODES",
        "pg|BEGIN TRANSACTION READ ONLY|MODES",
        "pg|BEGIN NOT DEFERRABLE|MODES",
        "x|BEGIN IMMEDIATE TRANSACTION|MODES",
        "my|START TRANSACTION|BEGIN",
        "my|start transaction with consistent snapshot|MODES",
        "my|BEGIN NOT ATOMIC SELECT 1; END|OTHER",
        "h2|BEGIN INSERT INTO t VALUES (1); END;|OTHER",
        "pg|DO $$ BEGIN INSERT INTO t VALUES (1); COMMIT; END $$|OTHER",
        "pg|DO $body$ BEGIN PERFORM 1; END $body$; |OTHER",
        "pg|COMMIT|COMMIT",
        "pg|commit work;|COMMIT",
        "pg|END|COMMIT",
        "my|END|OTHER",
        "pg|ABORT|ROLLBACK",
        "lite|END TRANSACTION|COMMIT",
        "lite|ABORT|OTHER",
        "lite|BEGIN DEFERRED|MODES",
        "lite|ROLLBACK TRANSACTION TO SAVEPOINT a|OTHER",
        "lite|SELECT [a;COMMIT] FROM t|OTHER",
        "lite|SELECT [it's] FROM t; COMMIT|MULTI",
        "x|SELECT [a;COMMIT] FROM t|MULTI",
        "derby|SET ISOLATION SERIALIZABLE|ISOLATION",
        "derby|set current isolation = cs|ISOLATION",
        "derby|SET CURRENT SCHEMA app|OTHER",
        "derby|SET SCHEMA app|OTHER",
        "pg|COMMIT AND NO CHAIN|COMMIT",
        "pg|COMMIT AND CHAIN|UNSUPPORTED",
        "my|ROLLBACK RELEASE|UNSUPPORTED",
        "pg|COMMIT PREPARED 'tx1'|OTHER",
        "pg|ROLLBACK|ROLLBACK",
        "pg|ROLLBACK TRANSACTION|ROLLBACK",
        "pg|ROLLBACK TO SAVEPOINT a|OTHER",
        "pg|ROLLBACK TO a|OTHER",
        "pg|SAVEPOINT a|OTHER",
        "pg|RELEASE SAVEPOINT a|OTHER",
        "h2|SET AUTOCOMMIT FALSE|AC_OFF",
        "h2|SET AUTOCOMMIT ON|AC_ON",
        "my|SET autocommit=0|AC_OFF",
        "my|SET @@session.autocommit = 1|AC_ON",
        "my|SET SESSION autocommit = OFF|AC_OFF",
        "my|SET autocommit = @x|UNSUPPORTED",
        "my|SET autocommitted = 1|OTHER",
        "h2|SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE|DDL",
        "h2|SET TRANSACTION ISOLATION LEVEL SERIALIZABLE|DDL",
        "h2|set mode MySQL|DDL",
        "h2|SET LOCK_MODE 3|DDL",
        "h2|SET SCHEMA_SEARCH_PATH PUBLIC|OTHER",
        "h2|SET SCHEMA PUBLIC|OTHER",
        "h2|SET @x = 1|OTHER",
        "h2|SET TIME ZONE 'UTC'|OTHER",
        "h2|SET LOCK_TIMEOUT 1000|OTHER",
        "h2|SET QUERY_TIMEOUT 1000; SET SCHEMA PUBLIC|OTHER",
        "h2|SCRIPT NODATA|DDL",
        "h2|RUNSCRIPT FROM 'setup.sql'|DDL",
        "h2|DECLARE LOCAL TEMPORARY TABLE t (id INT)|DDL",
        "h2|DECLARE LOCAL TEMPORARY TABLE t (id INT); COMMIT|MULTI",
        "x|DECLARE GLOBAL TEMPORARY TABLE t (id INT)|OTHER",
        "my|DECLARE x INT; BEGIN COMMIT; END|OTHER",
        "x|DECLARE CURSOR c IS SELECT 1 FROM dual; BEGIN COMMIT; END;|OTHER",
        "x|DECLARE n NUMBER; BEGIN COMMIT; END;|OTHER",
        "pg|DECLARE c CURSOR WITH HOLD FOR SELECT 1; COMMIT|MULTI",
        "pg|DECLARE \"my cur\"\"s\" NO SCROLL CURSOR FOR SELECT 1; COMMIT|MULTI",
        "pg|declare c binary insensitive scroll cursor for select 1|OTHER",
        "my|CHECK TABLE t|DDL",
        "my|RESET QUERY CACHE|DDL",
        "my|INSTALL SONAME 'x'|DDL",
        "my|SET PASSWORD = PASSWORD('x')|DDL",
        "pg|SET password_encryption = 'scram-sha-256'|OTHER",
        "pg|SET TRANSACTION ISOLATION LEVEL SERIALIZABLE|OTHER",
        "my|SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE|OTHER",
        "pg|/* COMMIT */ SELECT 1|OTHER",
        "pg|/* nested /* COMMIT */ still comment */ SELECT 1|OTHER",
        "pg|-- COMMIT\\nSELECT 1|OTHER",
        "my|# COMMIT\\nSELECT 1|OTHER",
        "my|/*!COMMIT*/|COMMIT",
        "my|/*M!100100 SET autocommit=1 */|AC_ON",
        "my|INSERT INTO t VALUES (1); /*!40101 COMMIT */|MULTI",
        "my|/*!40101 SET NAMES utf8 */|OTHER",
        "my|/* COMMIT */ SELECT 1|OTHER",
        "pg|/*! COMMIT */ SELECT 1|OTHER",
        "pg|SELECT 'COMMIT; ROLLBACK'|OTHER",
        "my|SELECT 'it\\'s; COMMIT'|OTHER",
        "pg|SELECT \"a;COMMIT\" FROM t|OTHER",
        "my|SELECT `a;COMMIT` FROM t|OTHER",
        "pg|SELECT $1; COMMIT|MULTI",
        "pg|INSERT INTO t VALUES (1); COMMIT|MULTI",
        "pg|SELECT 1; SELECT 2|OTHER",
        "my|INSERT INTO t VALUES (1); CREATE TABLE u (id INT)|DDL",
        "my|CREATE TABLE t (id INT)|DDL",
        "my|CREATE TEMPORARY TABLE t (id INT)|OTHER",
        "h2|CREATE LOCAL TEMPORARY TABLE t (id INT)|DDL",
        "h2|CREATE TEMPORARY TABLE t (id INT)|DDL",
        "h2|CREATE SEQUENCE s|OTHER",
        "h2|ALTER SEQUENCE s RESTART WITH 100|OTHER",
        "h2|/* x */ alter  sequence s INCREMENT BY 5|OTHER",
        "h2|DROP SEQUENCE s|DDL",
        "h2|ALTER TABLE t ADD COLUMN y INT|DDL",
        "my|CREATE SEQUENCE s|DDL",
        "my|ALTER SEQUENCE s RESTART WITH 100|DDL",
        "my|TRUNCATE TABLE t|DDL",
        "my|LOCK TABLES t WRITE|DDL",
        "pg|CREATE FUNCTION f() RETURNS int AS 'SELECT 1; COMMIT' LANGUAGE sql|DDL",
        "pg|CREATE OR REPLACE PROCEDURE p() LANGUAGE plpgsql AS $$ BEGIN COMMIT; END $$|DDL",
        "pg|COMMITTED|OTHER",
        "pg|BEGINNING|OTHER",
        "pg|SELECT 1 /* unterminated COMMIT|OTHER",
        "pg|SELECT 'unterminated; COMMIT|OTHER",
        "pg|''|OTHER",
    })
    void classifies(String dialect, String sql, String expected) {
        String text = sql.replace("\\n", "\n").replace("''", "");
        assertEquals(kind(expected), Sql.classify(text, dialect(dialect)), sql);
    }

    /** How messages quote a statement: its leading words only, never a literal, a number or a parameter. */
    @ParameterizedTest(name = "[{0}] {1} -> {2}")
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
        "h2|COMMIT|'COMMIT'",
        "h2|  commit ;  |'commit'",
        "pg|BEGIN ISOLATION LEVEL SERIALIZABLE|'BEGIN ISOLATION LEVEL SERIALIZABLE'",
        "pg|/* app */ CREATE TABLE orders (id int)|'CREATE TABLE orders …'",
        "pg|ALTER USER bob PASSWORD 'card-4111'|'ALTER USER bob PASSWORD …'",
        "my|INSERT INTO t VALUES ('card-4111'); COMMIT|'INSERT INTO t VALUES …'",
        "my|UPDATE t SET a = 1; COMMIT|'UPDATE t SET a …'",
        "my|SET autocommit = 4111|'SET autocommit …'",
        "my|DELETE FROM public.accounts WHERE owner = 'x'|'DELETE FROM public.accounts WHERE owner …'",
        "pg|SELECT 4111; COMMIT|'SELECT …'",
        "pg|'card-4111'; COMMIT|'…'",
        "h2|START TRANSACTION ISOLATION LEVEL READ COMMITTED, READ WRITE|'START TRANSACTION ISOLATION LEVEL READ COMMITTED …'",
    })
    void quotesOnlyLeadingWords(String dialect, String sql, String expected) {
        assertEquals(expected, Sql.leadingWords(sql, dialect(dialect)), sql);
    }
}
