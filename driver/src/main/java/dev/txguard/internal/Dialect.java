package dev.txguard.internal;

import java.util.Locale;

/**
 * What txguard must know about the database behind a connection: how its SQL is lexed, and which
 * statements end a transaction behind the application's back. Chosen once per connection from
 * {@code DatabaseMetaData.getDatabaseProductName()}.
 */
final class Dialect {

    static final Dialect POSTGRESQL = new Dialect("PostgreSQL", true, false, true, false, false, true, false, false, true, true,
            false, false, true);
    static final Dialect MYSQL = new Dialect("MySQL/MariaDB", false, true, false, true, true, false, true, false, true, false,
            false, true, true);
    static final Dialect H2 = new Dialect("H2", false, false, false, false, false, false, true, true, false, false, true,
            false, false);
    static final Dialect ORACLE = new Dialect("Oracle", false, false, false, false, false, false, true, true, false, false,
            false, false, true);
    static final Dialect STANDARD = new Dialect("standard SQL", false, false, false, false, false, false, false, false, true,
            false, false, false, true);

    final String name;
    /** PostgreSQL: END is COMMIT and ABORT is ROLLBACK. */
    final boolean endIsCommit;
    final boolean hashComments;
    final boolean nestedComments;
    final boolean backslashEscapes;
    final boolean backtickIdentifiers;
    final boolean dollarQuotes;
    /** DDL commits the open transaction, so no savepoint survives it. */
    final boolean implicitCommitDdl;
    /** Even CREATE/DROP TEMPORARY TABLE commits (H2); MySQL and MariaDB exempt them. */
    final boolean temporaryTablesCommit;
    /** RELEASE SAVEPOINT also destroys every savepoint set after the one released (PostgreSQL, MariaDB). */
    final boolean releaseDestroysLaterSavepoints;
    /** Any failed statement, a failed RELEASE included, aborts the whole transaction (PostgreSQL). */
    final boolean errorAbortsTransaction;
    /**
     * The commands the database does not run inside a transaction commit the open one before they run (H2:
     * every SET that changes more than the session, such as SET SESSION CHARACTERISTICS, SET MODE or SET
     * LOCK_MODE, but not SET SCHEMA or SET @variable; SCRIPT and RUNSCRIPT), and so does a change of isolation
     * level through JDBC.
     */
    final boolean nonTransactionalCommandsCommit;
    /** Comments opened with "/*!" or "/*M!" are not comments: the server runs what they hold (MySQL, MariaDB). */
    final boolean executableComments;
    /**
     * CREATE SEQUENCE and ALTER SEQUENCE are DDL like any other. Not on H2, where they leave the transaction
     * open (and are not undone by a rollback, as a sequence's next value is not).
     */
    final boolean sequenceDdlCommits;

    private Dialect(String name, boolean endIsCommit, boolean hashComments, boolean nestedComments,
                    boolean backslashEscapes, boolean backtickIdentifiers, boolean dollarQuotes,
                    boolean implicitCommitDdl, boolean temporaryTablesCommit, boolean releaseDestroysLaterSavepoints,
                    boolean errorAbortsTransaction, boolean nonTransactionalCommandsCommit,
                    boolean executableComments, boolean sequenceDdlCommits) {
        this.name = name;
        this.endIsCommit = endIsCommit;
        this.hashComments = hashComments;
        this.nestedComments = nestedComments;
        this.backslashEscapes = backslashEscapes;
        this.backtickIdentifiers = backtickIdentifiers;
        this.dollarQuotes = dollarQuotes;
        this.implicitCommitDdl = implicitCommitDdl;
        this.temporaryTablesCommit = temporaryTablesCommit;
        this.releaseDestroysLaterSavepoints = releaseDestroysLaterSavepoints;
        this.errorAbortsTransaction = errorAbortsTransaction;
        this.nonTransactionalCommandsCommit = nonTransactionalCommandsCommit;
        this.executableComments = executableComments;
        this.sequenceDdlCommits = sequenceDdlCommits;
    }

    static Dialect forProduct(String productName) {
        String p = productName == null ? "" : productName.toLowerCase(Locale.ROOT);
        if (p.contains("postgres")) return POSTGRESQL;
        if (p.contains("mysql") || p.contains("mariadb")) return MYSQL;
        if (p.equals("h2")) return H2;
        if (p.contains("oracle")) return ORACLE;
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
