package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
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
        this.observer = DriverManager.getConnection(rawUrl);
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

    /** Keeps connections for cleanup, forgetting those already closed (a long random campaign opens many). */
    private void remember(Connection c) throws SQLException {
        for (java.util.Iterator<Connection> it = opened.iterator(); it.hasNext(); ) {
            if (it.next().isClosed()) it.remove();
        }
        opened.add(c);
    }

    /**
     * A HikariCP pool over the {@code jdbc:txguard:} URL, as applications put one under Spring or a
     * data-access framework; autocommit on is HikariCP's default. The caller closes it.
     */
    HikariDataSource guardedPool(boolean autoCommit) {
        HikariConfig config = new HikariConfig();
        config.setAutoCommit(autoCommit);
        config.setJdbcUrl(guardedUrl());
        config.setMaximumPoolSize(2);
        config.setPoolName("txguard-test");
        return new HikariDataSource(config);
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
        Set<Integer> ids = new TreeSet<>();
        try (Statement s = observer.createStatement(); ResultSet rs = s.executeQuery("SELECT id FROM " + table)) {
            while (rs.next()) ids.add(rs.getInt(1));
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
        try (Statement s = observer.createStatement()) {
            s.execute("DROP TABLE " + table);
        } finally {
            observer.close();
        }
    }
}
