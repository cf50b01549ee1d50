package dev.txguard.benchmarks;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;

/**
 * Issue 4 part 4: the seeds' bank transfer (debit with a balance guard, fee, credit, a nested
 * notification step), measured by {@link BankWorkload} and {@link BankInterleaved}. Both variants send
 * the database the same work: through txguard the notification DAO is legacy-shaped (its own
 * begin/commit/restore, which txguard turns into a savepoint); on the raw driver, where that shape would
 * commit the transfer half-way, it sets and releases its savepoint by hand, as correct JDBC code must.
 */
final class Bank {

    static final int ACCOUNTS = 10_000;
    /**
     * With conflicts: transfers go between this many accounts only, under SERIALIZABLE, so that PostgreSQL ends a
     * large share of them with a serialization failure (40001), as a contended OLTP workload does.
     */
    static final int HOT_ACCOUNTS = 16;

    private final DataSource pool;
    private final boolean handWrittenSavepoint;
    private final int accounts;
    /** Keys of the lines and notices this process inserts: from its own base, so that processes sharing the tables never collide. */
    private final AtomicLong ids;

    Bank(DataSource pool, String variant, long idBase, boolean conflicts) {
        this.pool = pool;
        this.accounts = conflicts ? HOT_ACCOUNTS : ACCOUNTS;
        this.handWrittenSavepoint = variant.equals(Connections.RAW);
        this.ids = new AtomicLong(idBase);
    }

    /**
     * HikariCP with four connections to PostgreSQL, through txguard's URL prefix for that variant; with conflicts,
     * at SERIALIZABLE.
     */
    static HikariDataSource pool(String variant, boolean conflicts) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl((variant.equals(Connections.TXGUARD) ? "jdbc:txguard:" : "jdbc:")
                + Connections.rawUrl(Connections.POSTGRESQL));
        config.setMaximumPoolSize(4);
        config.setPoolName("bench-" + variant);
        // The server does not wait for the disk at each commit: that wait is the same for every variant and
        // is this machine's noisiest part. Without it the client's CPU is a larger share of each transfer, so
        // what txguard adds shows more, not less.
        config.setConnectionInitSql("SET synchronous_commit TO off");
        if (conflicts) config.setTransactionIsolation("TRANSACTION_SERIALIZABLE");
        return new HikariDataSource(config);
    }

    static void create(Connection c) throws SQLException {
        drop(c);
        Connections.execute(c,
                "CREATE TABLE bench_bank_accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)",
                "CREATE TABLE bench_bank_lines (id BIGINT PRIMARY KEY, account INT, amount BIGINT)",
                "CREATE TABLE bench_bank_notices (id BIGINT PRIMARY KEY, text VARCHAR(80))",
                "INSERT INTO bench_bank_accounts SELECT x, 1000000 FROM generate_series(1, " + ACCOUNTS + ") AS x");
    }

    static void drop(Connection c) throws SQLException {
        Connections.execute(c, "DROP TABLE IF EXISTS bench_bank_accounts", "DROP TABLE IF EXISTS bench_bank_lines",
                "DROP TABLE IF EXISTS bench_bank_notices");
    }

    boolean transfer(SplittableRandom random) throws SQLException {
        int from = 1 + random.nextInt(accounts);
        int to = 1 + random.nextInt(accounts);
        if (from == to) to = to % accounts + 1;
        try (Connection c = pool.getConnection()) {
            c.setAutoCommit(false);
            try {
                // Locks in id order, as careful banking code does: deadlocks are not what this measures.
                boolean debited = from < to ? move(c, from, -100) && move(c, to, 100) : move(c, to, 100) && move(c, from, -100);
                if (!debited) {
                    c.rollback();
                    return false;
                }
                move(c, from, -1); // the fee
                notifyOwner(c, from);
                c.commit();
                return true;
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }
    }

    /** A debit (negative amount, guarded by the balance) or a credit, with its line. */
    private boolean move(Connection c, int account, long amount) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "UPDATE bench_bank_accounts SET balance = balance + ? WHERE id = ? AND balance + ? >= 0")) {
            ps.setLong(1, amount);
            ps.setInt(2, account);
            ps.setLong(3, amount);
            if (ps.executeUpdate() == 0) return false;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_bank_lines (id, account, amount) VALUES (?, ?, ?)")) {
            ps.setLong(1, ids.incrementAndGet());
            ps.setInt(2, account);
            ps.setLong(3, amount);
            ps.executeUpdate();
        }
        return true;
    }

    private void notifyOwner(Connection c, int account) throws SQLException {
        if (handWrittenSavepoint) notifyWithSavepoint(c, account); else notifyLegacy(c, account);
    }

    private void notifyWithSavepoint(Connection c, int account) throws SQLException {
        java.sql.Savepoint sp = c.setSavepoint();
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_bank_notices (id, text) VALUES (?, ?)")) {
            ps.setLong(1, ids.incrementAndGet());
            ps.setString(2, "account " + account + " sent a transfer");
            ps.executeUpdate();
            c.releaseSavepoint(sp);
        } catch (SQLException e) {
            c.rollback(sp);
            throw e;
        }
    }

    /** The notification DAO: its own begin/commit/restore, a nested scope under txguard. */
    private void notifyLegacy(Connection c, int account) throws SQLException {
        c.setAutoCommit(false);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO bench_bank_notices (id, text) VALUES (?, ?)")) {
            ps.setLong(1, ids.incrementAndGet());
            ps.setString(2, "account " + account + " sent a transfer");
            ps.executeUpdate();
            c.commit();
        } catch (SQLException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
