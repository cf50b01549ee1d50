package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One test's view of a database: a fresh table {@code rows(id primary key)}, guarded connections to
 * work through, and an independent observer connection that shows what was really committed.
 */
final class TestDb implements AutoCloseable {

    private static final AtomicInteger TABLES = new AtomicInteger();

    final Database database;
    final String rawUrl;
    final String table;
    private final Properties txguard;
    private final Connection observer;
    private final List<Connection> opened = new ArrayList<>();

    private TestDb(Database database, Properties txguard) throws SQLException {
        database.requireAvailable();
        this.database = database;
        this.rawUrl = database.newRawUrl();
        this.txguard = txguard;
        this.table = "txg_rows_" + ProcessHandle.current().pid() + "_" + TABLES.incrementAndGet();
        // Unguarded under the agent too: it shows what is committed, and works beside a test transaction.
        this.observer = dev.txguard.internal.EngineProbe.unguarded(DriverManager.getConnection(rawUrl));
        if (database == Database.DERBY) {
            // Nothing waits for a lock: see committedPastLocks. (Changed later, this property would itself wait
            // for the transactions that have read it.)
            Legacy.sql(observer, "CALL SYSCS_UTIL.SYSCS_SET_DATABASE_PROPERTY('derby.locks.waitTimeout', '0')");
        }
        // A transaction a failed test leaks (a pool that keeps a connection it could not end) fails this test's
        // clean-up after a while, instead of keeping the build waiting for its lock.
        if (database == Database.POSTGRESQL) Legacy.sql(observer, "SET lock_timeout = '20s'");
        if (database == Database.MARIADB) Legacy.sql(observer, "SET SESSION lock_wait_timeout = 20");
        try (Statement s = observer.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id INT PRIMARY KEY, note VARCHAR(40))");
        }
    }

    /** txguard settings as key, value pairs: {@code "txguard.mode", "observe"}. */
    static TestDb open(Database database, String... settings) throws SQLException {
        Properties p = new Properties();
        for (int i = 0; i < settings.length; i += 2) p.setProperty(settings[i], settings[i + 1]);
        return new TestDb(database, p);
    }

    String guardedUrl() {
        return Database.guarded(rawUrl);
    }

    /** The user the URL names, for pools that pass a user of their own (H2's: none). */
    String user() {
        java.util.regex.Matcher user = java.util.regex.Pattern.compile("[?&;]user=([^&;]*)").matcher(rawUrl);
        return user.find() ? user.group(1) : "";
    }

    Properties settings() {
        Properties p = new Properties();
        p.putAll(txguard);
        return p;
    }

    /** A new connection through the jdbc:txguard: driver. */
    Connection guarded() throws SQLException {
        Connection c = DriverManager.getConnection(guardedUrl(), settings());
        remember(c);
        return c;
    }

    /**
     * A new connection from the database's own DataSource through a {@code TxGuardDataSource} over it: a handle
     * txguard was given, where {@link #guarded()} is one it opened from a driver (docs/semantics.md tells where the
     * two differ: what the giver handed out in manual mode is its own).
     */
    Connection guardedFromADataSource() throws SQLException {
        Connection c = new dev.txguard.TxGuardDataSource(database.ownDataSource(rawUrl, javax.sql.DataSource.class))
                .getConnection();
        remember(c);
        return c;
    }

    /** Keeps connections for cleanup, forgetting those already closed (a long random campaign opens many). */
    private void remember(Connection c) throws SQLException {
        for (java.util.Iterator<Connection> it = opened.iterator(); it.hasNext(); ) {
            if (it.next().isClosed()) it.remove();
        }
        opened.add(c);
    }

    /**
     * A guarded HikariCP pool, as applications put one under Spring or a data-access framework; autocommit
     * on is HikariCP's default. The caller closes it.
     */
    GuardedPool guardedPool(boolean autoCommit) {
        return new GuardedPool(this, autoCommit);
    }

    /** A new connection straight to the database, for comparing with plain JDBC (also under the agent). */
    Connection raw() throws SQLException {
        Connection c = dev.txguard.internal.EngineProbe.unguarded(DriverManager.getConnection(rawUrl));
        remember(c);
        return c;
    }

    /** Inserts a row as plain legacy code would. */
    void insert(Connection c, int id) throws SQLException {
        Legacy.insert(c, table, id);
    }

    /** The independent observer connection (autocommit), for housekeeping between runs. */
    Connection rawObserver() {
        return observer;
    }

    /** Ids committed, as another connection sees them. */
    Set<Integer> committed() throws SQLException {
        if (database == Database.DERBY) return committedPastLocks();
        Set<Integer> ids = new TreeSet<>();
        try (Statement s = observer.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + table)) {
            while (rs.next()) ids.add(rs.getInt(1));
        }
        return ids;
    }

    /**
     * Derby has no snapshot reads: a reader waits for the rows an open transaction holds. So the candidates
     * are read without locks, and each is then read by key, where a lock is not waited for (the database's
     * lock timeout is 0): a row an open transaction holds is not committed. (Nor would be a committed row it
     * deletes; the tests delete nothing mid-transaction. And on Derby, threads of a test that contend for a
     * row fail at once instead of waiting; none do.)
     */
    private Set<Integer> committedPastLocks() throws SQLException {
        Set<Integer> candidates = new TreeSet<>();
        observer.setTransactionIsolation(Connection.TRANSACTION_READ_UNCOMMITTED);
        try (Statement s = observer.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + table)) {
            while (rs.next()) candidates.add(rs.getInt(1));
        } finally {
            observer.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        }
        Set<Integer> ids = new TreeSet<>();
        try (PreparedStatement p = observer.prepareStatement("SELECT id FROM " + table + " WHERE id = ?")) {
            for (int id : candidates) {
                p.setInt(1, id);
                try (ResultSet rs = p.executeQuery()) {
                    if (rs.next()) ids.add(id);
                } catch (SQLException e) {
                    if (!"40XL1".equals(e.getSQLState())) throw e; // locked: written by an open transaction
                }
            }
        }
        return ids;
    }

    /** The committed rows' notes, by id, as another connection sees them. */
    List<String> committedNotes() throws SQLException {
        List<String> notes = new ArrayList<>();
        try (Statement s = observer.createStatement();
             ResultSet rs = s.executeQuery("SELECT note FROM " + table + " ORDER BY id")) {
            while (rs.next()) notes.add(rs.getString(1));
        }
        return notes;
    }

    /** A service's transaction with a legacy DAO's nested in it, then rolled back: nothing is committed. */
    void serviceRollsBackItsNestedDao(Connection c) throws SQLException {
        c.setAutoCommit(false);
        insert(c, 1);
        new Legacy.Dao(table).saveClassic(c, 2);
        assertCommitted(); // unguarded, the DAO's commit would have committed 1 and 2
        c.rollback();
        c.setAutoCommit(true);
        assertCommitted();
    }

    void assertCommitted(Integer... ids) throws SQLException {
        assertEquals(new TreeSet<>(List.of(ids)), committed(), database + ": rows another connection sees");
    }

    @Override
    public void close() throws SQLException {
        for (Connection c : opened) {
            try {
                if (!c.isClosed()) {
                    if (!c.getAutoCommit()) c.rollback();
                    c.close();
                }
            } catch (SQLException ignored) {
                // a test may leave a connection broken on purpose
            }
        }
        if (database == Database.DERBY) {
            // The table stays: after a rollback Derby's daemon may hold its lock a moment longer, and nothing waits
            // for a lock here (see the constructor). The in-memory database is this test's own, used by no other;
            // dropping it would wait half a second for Derby to shut down.
            observer.close();
            return;
        }
        try (Statement s = observer.createStatement()) {
            s.execute("DROP TABLE " + table);
        } finally {
            observer.close();
        }
    }
}
