package dev.txguard.benchmarks.suites;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The legacy code the suites test, and what they share: DAOs that begin, commit and restore autocommit on their own,
 * a service that nests them, and the database the benchmark points them at.
 */
public final class SuiteBank {

    private SuiteBank() {}

    /** The tests each suite runs. */
    public static final int TESTS = 200;

    /** The database under test, without jdbc: (postgresql://..., mariadb://...), set before a suite runs. */
    public static volatile String database;
    /** Ids never repeat in a JVM, so that the suite that cleans nothing up (the baseline) collides with nothing. */
    private static final AtomicInteger NEXT_ID = new AtomicInteger();

    public static IntStream tests() {
        return IntStream.range(0, TESTS);
    }

    public static String rawUrl() {
        return "jdbc:" + database;
    }

    /**
     * Every suite runs the application as it runs in production, through txguard: without it the service's nested
     * DAOs commit its transaction early (the bug txguard exists for), and its commit then fails.
     */
    public static String guardedUrl() {
        return "jdbc:txguard:" + database;
    }

    /** Each suite's pool over the guarded URL, opened at its first use and kept across its runs, as a test JVM keeps it. */
    private static final java.util.Map<Class<?>, HikariDataSource> POOLS = new java.util.HashMap<>();

    public static synchronized HikariDataSource poolOf(Class<?> suite) {
        return POOLS.computeIfAbsent(suite, s -> {
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(guardedUrl());
            config.setMaximumPoolSize(4);
            config.setPoolName(s.getSimpleName());
            return new HikariDataSource(config);
        });
    }

    public static synchronized void closePools() {
        for (HikariDataSource pool : POOLS.values()) pool.close();
        POOLS.clear();
    }

    public static void createSchema(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE account (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
            s.execute("CREATE TABLE audit (account INT, line VARCHAR(100))");
        }
    }

    public static void dropSchema(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS audit");
            s.execute("DROP TABLE IF EXISTS account");
        }
    }

    /** The tables a test touches, emptied (TRUNCATE: the fastest way each database offers). */
    public static void truncate(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("TRUNCATE TABLE audit");
            s.execute("TRUNCATE TABLE account");
        }
    }

    /** One test: two accounts opened, a transfer between them, the balances checked. */
    public static void transferTest(javax.sql.DataSource pool) throws SQLException {
        int from = NEXT_ID.incrementAndGet();
        int to = NEXT_ID.incrementAndGet();
        try (Connection c = pool.getConnection()) {
            openAccount(c, from, 1000);
            openAccount(c, to, 1000);
            transfer(c, from, to, 100);
            if (balance(c, from) != 900 || balance(c, to) != 1100) throw new AssertionError("the transfer did not balance");
        }
    }

    static void openAccount(Connection c, int id, long cents) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement p = c.prepareStatement("INSERT INTO account (id, balance) VALUES (?, ?)")) {
            p.setInt(1, id);
            p.setLong(2, cents);
            p.executeUpdate();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    /** The service: one transaction, with a DAO's own transaction nested in it for each side. */
    static void transfer(Connection c, int from, int to, long cents) throws SQLException {
        c.setAutoCommit(false);
        try {
            move(c, from, -cents);
            move(c, to, cents);
            try (PreparedStatement p = c.prepareStatement("INSERT INTO audit (account, line) VALUES (?, ?)")) {
                p.setInt(1, from);
                p.setString(2, "transfer of " + cents + " to " + to);
                p.executeUpdate();
            }
            c.commit();
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }

    static void move(Connection c, int id, long cents) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement p = c.prepareStatement("UPDATE account SET balance = balance + ? WHERE id = ?")) {
            p.setLong(1, cents);
            p.setInt(2, id);
            p.executeUpdate();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    static long balance(Connection c, int id) throws SQLException {
        try (PreparedStatement p = c.prepareStatement("SELECT balance FROM account WHERE id = ?")) {
            p.setInt(1, id);
            try (ResultSet rs = p.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
