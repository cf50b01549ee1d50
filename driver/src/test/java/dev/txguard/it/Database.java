package dev.txguard.it;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * The databases every semantic test runs on. H2, SQLite and Derby are embedded; PostgreSQL and MariaDB
 * are the servers of this machine. A server that cannot be reached skips its tests with the reason,
 * except under CI=true, where it fails them.
 */
public enum Database {
    H2(null),
    POSTGRESQL("jdbc:postgresql://127.0.0.1:5432/test?user=postgres"),
    MARIADB("jdbc:mariadb://127.0.0.1:3306/test?user=root"),
    /** A file per database, in WAL mode so that an observer reads while a transaction is open. */
    SQLITE(null),
    /** In memory. Derby reads through locks: an observer waits for an open transaction's rows. */
    DERBY(null);

    static {
        // Derby writes its log beside the process unless told otherwise.
        if (System.getProperty("derby.stream.error.file") == null) {
            System.setProperty("derby.stream.error.file", "target/derby.log");
        }
    }

    private static final AtomicInteger EMBEDDED_DATABASES = new AtomicInteger();
    private static final Path SQLITE_FILES = Path.of("target", "sqlite-" + ProcessHandle.current().pid());
    private static final Map<Database, String> UNREACHABLE = new EnumMap<>(Database.class);

    private final String serverUrl;

    Database(String serverUrl) {
        this.serverUrl = serverUrl;
    }

    /** A URL without the txguard prefix; each call for an embedded database gets a database of its own. */
    public String newRawUrl() {
        switch (this) {
            case H2:
                return "jdbc:h2:mem:txg" + EMBEDDED_DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
            case SQLITE:
                try {
                    Files.createDirectories(SQLITE_FILES);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
                return "jdbc:sqlite:" + SQLITE_FILES.toAbsolutePath().resolve("txg" + EMBEDDED_DATABASES.incrementAndGet()
                        + ".db") + "?journal_mode=WAL";
            case DERBY:
                return "jdbc:derby:memory:txg" + EMBEDDED_DATABASES.incrementAndGet() + ";create=true";
            default:
                return serverUrl;
        }
    }

    /**
     * H2 and the two servers: the databases of the samples, and of the agent's tests of where connections come
     * from (pooled handles, class loaders, bundles), which are about drivers and loaders, not semantics.
     */
    public static Database[] samplesDatabases() {
        return new Database[] {H2, POSTGRESQL, MARIADB};
    }

    /** Whether the database runs inside the test's JVM, where it is always there. */
    public boolean embedded() {
        return serverUrl == null;
    }

    /**
     * The database's own data source of a kind, {@code javax.sql.DataSource}, {@code javax.sql.XADataSource} or
     * {@code javax.sql.ConnectionPoolDataSource}, at {@code rawUrl}: what an application, or a transaction manager's
     * or an application server's pool, takes. H2's and MariaDB's classes are of every kind; PostgreSQL and Derby have
     * one class per kind.
     */
    public <T> T ownDataSource(String rawUrl, Class<T> kind) {
        switch (this) {
            case H2: {
                org.h2.jdbcx.JdbcDataSource h2 = new org.h2.jdbcx.JdbcDataSource();
                h2.setURL(rawUrl);
                return kind.cast(h2);
            }
            case POSTGRESQL: {
                org.postgresql.ds.common.BaseDataSource pg = kind == javax.sql.XADataSource.class
                        ? new org.postgresql.xa.PGXADataSource()
                        : kind == javax.sql.ConnectionPoolDataSource.class ? new org.postgresql.ds.PGConnectionPoolDataSource()
                        : new org.postgresql.ds.PGSimpleDataSource();
                pg.setURL(rawUrl);
                return kind.cast(pg);
            }
            case MARIADB:
                try {
                    return kind.cast(new org.mariadb.jdbc.MariaDbDataSource(rawUrl));
                } catch (SQLException e) {
                    throw new IllegalArgumentException("MariaDB's data source refused " + rawUrl, e);
                }
            case DERBY: {
                org.apache.derby.jdbc.EmbeddedDataSource derby = kind == javax.sql.XADataSource.class
                        ? new org.apache.derby.jdbc.EmbeddedXADataSource()
                        : kind == javax.sql.ConnectionPoolDataSource.class ? new org.apache.derby.jdbc.EmbeddedConnectionPoolDataSource()
                        : new org.apache.derby.jdbc.EmbeddedDataSource();
                // jdbc:derby:memory:txg1;create=true, which the test has opened: Derby's data sources take its name
                derby.setDatabaseName(rawUrl.substring("jdbc:derby:".length(), rawUrl.indexOf(';')));
                return kind.cast(derby);
            }
            default:
                throw new IllegalArgumentException("no " + kind.getSimpleName() + " is set up for " + this
                        + "; the tests use one on H2, PostgreSQL, MariaDB and Derby");
        }
    }

    static String guarded(String rawUrl) {
        return "jdbc:txguard:" + rawUrl.substring("jdbc:".length());
    }

    /** Skips (or, under CI, fails) when the server is not there. */
    public void requireAvailable() {
        if (embedded()) return;
        String problem;
        synchronized (UNREACHABLE) {
            if (!UNREACHABLE.containsKey(this)) {
                String p = null;
                try (Connection c = DriverManager.getConnection(serverUrl)) {
                    c.isValid(5);
                } catch (SQLException e) {
                    p = e.getMessage();
                }
                UNREACHABLE.put(this, p);
            }
            problem = UNREACHABLE.get(this);
        }
        if (problem == null) return;
        String message = this + " is not reachable at " + serverUrl.replaceAll("\\?.*", "") + " (" + problem + ")";
        if ("true".equals(System.getenv("CI"))) {
            throw new AssertionError(message + "; under CI=true every database must run (.ci/run starts them)");
        }
        Assumptions.abort(message + "; start it (see README) to run these tests, or set CI=true to make this fail");
    }
}
