package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The bank under load: threads (4 x the cores) run nested legacy-style transfers through a HikariCP
 * pool over txguard, with random failures at every level and real lock conflicts (transfers run both
 * ways between the same accounts). Afterwards the books must balance: money neither appears nor
 * vanishes, no balance is negative, every committed transfer has all its rows and no failed one has
 * any, and every connection is back in the pool clean.
 */
class BankStressTest {

    private static final int ACCOUNTS = 6;
    private static final long OPENING = 100_000;
    private static final int TRANSFERS_PER_THREAD = 60;

    @ParameterizedTest
    @EnumSource(value = Database.class, names = {"POSTGRESQL", "MARIADB"})
    void nestedTransfersUnderLoad_keepTheBooksBalanced(Database database) throws Exception {
        database.requireAvailable();
        int threads = 4 * Runtime.getRuntime().availableProcessors();
        try (TestDb db = TestDb.open(database)) { // only for the server's availability rule and cleanup
            Bank bank = new Bank(db.table);
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(db.guardedUrl());
            config.setMaximumPoolSize(threads);
            config.setPoolName("txguard-stress");
            // Deadlocks are part of the test; found in 50 ms instead of PostgreSQL's default second (the
            // test connects as a superuser), and no lock wait on MariaDB outlasts a few seconds.
            config.setConnectionInitSql(database == Database.POSTGRESQL ? "SET deadlock_timeout = '50ms'"
                    : "SET SESSION innodb_lock_wait_timeout = 5");
            try (HikariDataSource pool = new HikariDataSource(config)) {
                try (Connection c = pool.getConnection()) {
                    bank.create(c);
                }
                AtomicInteger committed = new AtomicInteger();
                AtomicInteger failed = new AtomicInteger();
                bank.deadlocks.set(0);
                ExecutorService executor = Executors.newFixedThreadPool(threads);
                List<Future<?>> work = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long seed = 1000L * t + database.ordinal();
                    work.add(executor.submit(() -> {
                        SplittableRandom random = new SplittableRandom(seed);
                        for (int i = 0; i < TRANSFERS_PER_THREAD; i++) {
                            try (Connection c = pool.getConnection()) {
                                if (bank.transfer(c, random)) committed.incrementAndGet(); else failed.incrementAndGet();
                            }
                        }
                        return null;
                    }));
                }
                executor.shutdown();
                assertTrue(executor.awaitTermination(10, TimeUnit.MINUTES), "the transfers did not finish");
                for (Future<?> f : work) f.get(); // a thread's unexpected exception fails the test here

                try (Connection c = pool.getConnection()) {
                    bank.checkInvariants(c, committed.get());
                }
                for (int i = 0; i < threads; i++) {
                    // every pooled connection comes back clean: no scope open, autocommit as configured
                    try (Connection c = pool.getConnection()) {
                        assertTrue(c.getAutoCommit(), "a connection came back from the pool inside a transaction");
                    }
                }
                assertEquals(0, transactionsLeftOpen(database, db), "connections left idle in a transaction");
                System.out.printf("bank stress %s: %d threads, %d transfers committed, %d failed (%d of them in deadlocks"
                        + " or serialization failures); the invariants held%n",
                        database, threads, committed.get(), failed.get(), bank.deadlocks.get());
                assertTrue(committed.get() > 0 && failed.get() > 0, "both outcomes exercised");
            } finally {
                try (Connection c = db.raw(); Statement s = c.createStatement()) {
                    bank.drop(s);
                }
            }
        }
    }

    private static long transactionsLeftOpen(Database database, TestDb db) throws SQLException {
        String sql = database == Database.POSTGRESQL
                ? "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'"
                : "SELECT COUNT(*) FROM information_schema.innodb_trx";
        try (Statement s = db.rawObserver().createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** Legacy bank code: DAOs that each open their own transaction, a service around them. */
    static final class Bank {
        final String accounts;
        final String log;
        final String lines;

        Bank(String prefix) {
            this.accounts = prefix + "_acct";
            this.log = prefix + "_xfer";
            this.lines = prefix + "_line";
        }

        void create(Connection c) throws SQLException {
            try (Statement s = c.createStatement()) {
                s.execute("CREATE TABLE " + accounts + " (id INT PRIMARY KEY, balance BIGINT NOT NULL)");
                s.execute("CREATE TABLE " + log + " (id INT PRIMARY KEY, amount BIGINT NOT NULL)");
                s.execute("CREATE TABLE " + lines + " (transfer INT NOT NULL, kind VARCHAR(10) NOT NULL, amount BIGINT NOT NULL)");
                for (int a = 0; a <= ACCOUNTS; a++) { // account 0 is the bank's, where fees go
                    s.execute("INSERT INTO " + accounts + " VALUES (" + a + ", " + (a == 0 ? 0 : OPENING) + ")");
                }
            }
        }

        void drop(Statement s) throws SQLException {
            for (String table : new String[] {lines, log, accounts}) s.execute("DROP TABLE IF EXISTS " + table);
        }

        private static final AtomicInteger IDS = new AtomicInteger();
        /** Transfers the database itself rolled back (SQLState class 40). */
        final AtomicInteger deadlocks = new AtomicInteger();

        /** True when the transfer committed. */
        boolean transfer(Connection c, SplittableRandom random) throws SQLException {
            int from = 1 + random.nextInt(ACCOUNTS);
            int to = 1 + (from + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
            long amount = 1 + random.nextInt(30_000);
            long fee = 1 + amount / 100;
            int id = IDS.incrementAndGet();
            c.setAutoCommit(false);
            try {
                record(c, id, amount);
                debit(c, id, from, amount + fee);
                credit(c, id, 0, fee, "fee");
                credit(c, id, to, amount, "credit");
                notifyCustomer(c, id, random.nextInt(4) == 0);
                if (random.nextInt(10) == 0) throw new IllegalStateException("the transfer failed after its DAOs ran");
                c.commit();
                return true;
            } catch (SQLException | RuntimeException e) {
                if (e instanceof SQLException && String.valueOf(((SQLException) e).getSQLState()).startsWith("40")) {
                    deadlocks.incrementAndGet();
                }
                c.rollback();
                return false;
            } finally {
                c.setAutoCommit(true);
            }
        }

        private void record(Connection c, int id, long amount) throws SQLException {
            update(c, "INSERT INTO " + log + " (id, amount) VALUES (?, ?)", id, amount);
        }

        /** A DAO with its own "transaction" and a balance guard. */
        private void debit(Connection c, int id, int account, long cents) throws SQLException {
            c.setAutoCommit(false);
            try {
                int changed = update(c, "UPDATE " + accounts + " SET balance = balance - ? WHERE id = ? AND balance >= ?",
                        cents, account, cents);
                if (changed != 1) throw new SQLException("insufficient funds");
                update(c, "INSERT INTO " + lines + " (transfer, kind, amount) VALUES (?, 'debit', ?)", id, cents);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }

        private void credit(Connection c, int id, int account, long cents, String kind) throws SQLException {
            c.setAutoCommit(false);
            try {
                update(c, "UPDATE " + accounts + " SET balance = balance + ? WHERE id = ?", cents, account);
                update(c, "INSERT INTO " + lines + " (transfer, kind, amount) VALUES (?, '" + kind + "', ?)", id, cents);
                c.commit();
            } catch (SQLException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        }

        /** A nested step that may fail: it undoes its own work, and the transfer carries on. */
        private void notifyCustomer(Connection c, int id, boolean fails) throws SQLException {
            c.setAutoCommit(false);
            try {
                update(c, "INSERT INTO " + lines + " (transfer, kind, amount) VALUES (?, 'notice', 0)", id);
                if (fails) throw new SQLException("the notification service is down");
                c.commit();
            } catch (SQLException e) {
                c.rollback(); // only the notice goes
            } finally {
                c.setAutoCommit(true);
            }
        }

        private static int update(Connection c, String sql, Object... args) throws SQLException {
            try (PreparedStatement ps = c.prepareStatement(sql)) {
                for (int i = 0; i < args.length; i++) ps.setObject(i + 1, args[i]);
                return ps.executeUpdate();
            }
        }

        void checkInvariants(Connection c, int committed) throws SQLException {
            assertEquals(ACCOUNTS * OPENING, single(c, "SELECT SUM(balance) FROM " + accounts), "money appeared or vanished");
            assertEquals(0, single(c, "SELECT COUNT(*) FROM " + accounts + " WHERE balance < 0"), "a negative balance");
            assertEquals(committed, single(c, "SELECT COUNT(*) FROM " + log), "committed transfers recorded");
            // every recorded transfer has its debit, fee and credit, and they add up; nothing else has lines
            assertEquals(0, single(c, "SELECT COUNT(*) FROM " + log + " x WHERE 3 <> (SELECT COUNT(*) FROM " + lines
                    + " l WHERE l.transfer = x.id AND l.kind IN ('debit', 'fee', 'credit'))"), "a transfer with missing lines");
            assertEquals(0, single(c, "SELECT COUNT(*) FROM " + log + " x WHERE (SELECT SUM(amount) FROM " + lines
                    + " l WHERE l.transfer = x.id AND l.kind = 'debit') <> (SELECT SUM(amount) FROM " + lines
                    + " l WHERE l.transfer = x.id AND l.kind IN ('fee', 'credit'))"), "a transfer whose lines do not add up");
            assertEquals(0, single(c, "SELECT COUNT(*) FROM " + lines + " l WHERE NOT EXISTS (SELECT 1 FROM " + log
                    + " x WHERE x.id = l.transfer)"), "lines of a failed transfer");
        }

        private static long single(Connection c, String sql) throws SQLException {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
