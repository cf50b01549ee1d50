package dev.txguard.internal;

import java.util.Locale;

/**
 * What txguard must know about the database behind a connection: how its SQL is lexed, and which
 * statements end a transaction behind the application's back. Chosen once per connection from
 * {@code DatabaseMetaData.getDatabaseProductName()}.
 */
final class Dialect {

    static final Dialect POSTGRESQL = new Dialect("PostgreSQL").endIsCommit().abortIsRollback().nestedComments()
            .dollarQuotes().releaseDestroysLaterSavepoints().errorAbortsTransaction();
    static final Dialect MYSQL = new Dialect("MySQL/MariaDB").hashComments().backslashEscapes().backtickIdentifiers()
            .implicitCommitDdl().releaseDestroysLaterSavepoints().executableComments();
    static final Dialect H2 = new Dialect("H2").implicitCommitDdl().temporaryTablesCommit()
            .nonTransactionalCommandsCommit().isolationChangeCommits().evenToTheSameLevel().sequenceDdlStaysInTheTransaction();
    static final Dialect ORACLE = new Dialect("Oracle").implicitCommitDdl().temporaryTablesCommit();
    /** DDL is transactional; BEGIN [DEFERRED | IMMEDIATE | EXCLUSIVE], COMMIT, END and ROLLBACK are its SQL control. */
    static final Dialect SQLITE = new Dialect("SQLite").endIsCommit().backtickIdentifiers().bracketIdentifiers()
            .releaseDestroysLaterSavepoints().driverKeepsATransactionOpen();
    /**
     * DDL is transactional, but a change of isolation level commits. Its SQL SAVEPOINT statement cannot nest
     * (SQLState 3B002 at the second), so savepoints go through JDBC, where names must differ while set.
     */
    static final Dialect DERBY = new Dialect("Apache Derby").releaseDestroysLaterSavepoints().isolationChangeCommits()
            .savepointsThroughJdbc();
    static final Dialect STANDARD = new Dialect("standard SQL").releaseDestroysLaterSavepoints();

    final String name;
    /** END is COMMIT (PostgreSQL, SQLite). */
    boolean endIsCommit;
    /** ABORT is ROLLBACK (PostgreSQL). */
    boolean abortIsRollback;
    boolean hashComments;
    boolean nestedComments;
    boolean backslashEscapes;
    boolean backtickIdentifiers;
    /** [identifier] (SQLite). */
    boolean bracketIdentifiers;
    boolean dollarQuotes;
    /** DDL commits the open transaction, so no savepoint survives it. */
    boolean implicitCommitDdl;
    /** Even CREATE/DROP TEMPORARY TABLE commits (H2); MySQL and MariaDB exempt them. */
    boolean temporaryTablesCommit;
    /** RELEASE SAVEPOINT also destroys every savepoint set after the one released (PostgreSQL, MariaDB). */
    boolean releaseDestroysLaterSavepoints;
    /** Any failed statement, a failed RELEASE included, aborts the whole transaction (PostgreSQL). */
    boolean errorAbortsTransaction;
    /**
     * The commands the database does not run inside a transaction commit the open one before they run (H2:
     * every SET that changes more than the session, such as SET SESSION CHARACTERISTICS, SET MODE or SET
     * LOCK_MODE, but not SET SCHEMA or SET @variable; SCRIPT and RUNSCRIPT).
     */
    boolean nonTransactionalCommandsCommit;
    /** A change of isolation level commits the open transaction: through JDBC (H2, Derby), and Derby's SET ISOLATION. */
    boolean isolationChangeCommits;
    /** ... even when setTransactionIsolation names the level the connection already has (H2; not Derby). */
    boolean sameIsolationLevelCommits;
    /** Comments opened with "/*!" or "/*M!" are not comments: the server runs what they hold (MySQL, MariaDB). */
    boolean executableComments;
    /**
     * CREATE SEQUENCE and ALTER SEQUENCE are DDL like any other. Not on H2, where they leave the transaction
     * open (and are not undone by a rollback, as a sequence's next value is not).
     */
    boolean sequenceDdlCommits = true;
    /** txguard's savepoints are set, rolled back to and released through JDBC's Savepoint API, not as SQL. */
    boolean savepointsThroughJdbc;
    /**
     * With autocommit off the driver itself sends BEGIN at once and again after every commit and rollback
     * (SQLite's), so a BEGIN with modes must first end that empty transaction, or the database refuses it.
     */
    boolean driverKeepsATransactionOpen;

    private Dialect(String name) {
        this.name = name;
    }

    // Each sets one property while the constants above are built; nothing changes them afterwards.
    private Dialect endIsCommit() { endIsCommit = true; return this; }
    private Dialect abortIsRollback() { abortIsRollback = true; return this; }
    private Dialect hashComments() { hashComments = true; return this; }
    private Dialect nestedComments() { nestedComments = true; return this; }
    private Dialect backslashEscapes() { backslashEscapes = true; return this; }
    private Dialect backtickIdentifiers() { backtickIdentifiers = true; return this; }
    private Dialect bracketIdentifiers() { bracketIdentifiers = true; return this; }
    private Dialect dollarQuotes() { dollarQuotes = true; return this; }
    private Dialect implicitCommitDdl() { implicitCommitDdl = true; return this; }
    private Dialect temporaryTablesCommit() { temporaryTablesCommit = true; return this; }
    private Dialect releaseDestroysLaterSavepoints() { releaseDestroysLaterSavepoints = true; return this; }
    private Dialect errorAbortsTransaction() { errorAbortsTransaction = true; return this; }
    private Dialect nonTransactionalCommandsCommit() { nonTransactionalCommandsCommit = true; return this; }
    private Dialect isolationChangeCommits() { isolationChangeCommits = true; return this; }
    private Dialect evenToTheSameLevel() { sameIsolationLevelCommits = true; return this; }
    private Dialect executableComments() { executableComments = true; return this; }
    private Dialect sequenceDdlStaysInTheTransaction() { sequenceDdlCommits = false; return this; }
    private Dialect savepointsThroughJdbc() { savepointsThroughJdbc = true; return this; }
    private Dialect driverKeepsATransactionOpen() { driverKeepsATransactionOpen = true; return this; }

    static Dialect forProduct(String productName) {
        String p = productName == null ? "" : productName.toLowerCase(Locale.ROOT);
        if (p.contains("postgres")) return POSTGRESQL;
        if (p.contains("mysql") || p.contains("mariadb")) return MYSQL;
        if (p.equals("h2")) return H2;
        if (p.contains("oracle")) return ORACLE;
        if (p.equals("sqlite")) return SQLITE;
        if (p.contains("derby")) return DERBY;
        return STANDARD;
    }

    /**
     * The statement that applies a begin's characteristics once JDBC autocommit is off. PostgreSQL's
     * driver sends its own BEGIN first, so the modes go into SET TRANSACTION. Elsewhere the original
     * statement goes as written: MySQL and MariaDB start afresh (nothing is pending at an outermost
     * begin), and a database that does not know the syntax rejects it as it would without txguard.
     */
    String beginModesSql(String beginSql, int modesOffset) {
        if (this == POSTGRESQL) return "SET TRANSACTION " + beginSql.substring(modesOffset);
        return beginSql;
    }

    String setSavepointSql(String name) {
        return "SAVEPOINT " + name;
    }

    String rollbackToSavepointSql(String name) {
        return "ROLLBACK TO SAVEPOINT " + name;
    }

    /**
     * Null where the database has no RELEASE (Oracle), or where sending it only costs (H2, whose own driver
     * never sends one for releaseSavepoint): the savepoint then lives until the next scope at its place sets
     * one of the same name, which replaces it, or the transaction ends.
     */
    String releaseSavepointSql(String name) {
        return this == ORACLE || this == H2 ? null : "RELEASE SAVEPOINT " + name;
    }

    @Override
    public String toString() {
        return name;
    }
}
