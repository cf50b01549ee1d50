package dev.txguard.it;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Assumptions;

/**
 * The databases every semantic test runs on. H2 is embedded; PostgreSQL and MariaDB are the servers
 * of this machine. A server that cannot be reached skips its tests with the reason, except under
 * CI=true, where it fails them.
 */
public enum Database {
    H2(null),
    POSTGRESQL("jdbc:postgresql://127.0.0.1:5432/test?user=postgres"),
    MARIADB("jdbc:mariadb://127.0.0.1:3306/test?user=root");

    private static final AtomicInteger H2_DATABASES = new AtomicInteger();
    private static final Map<Database, String> UNREACHABLE = new EnumMap<>(Database.class);

    private final String serverUrl;

    Database(String serverUrl) {
        this.serverUrl = serverUrl;
    }

    /** A URL without the txguard prefix; each H2 call gets a database of its own. */
    public String newRawUrl() {
        if (this == H2) return "jdbc:h2:mem:txg" + H2_DATABASES.incrementAndGet() + ";DB_CLOSE_DELAY=-1";
        return serverUrl;
    }

    static String guarded(String rawUrl) {
        return "jdbc:txguard:" + rawUrl.substring("jdbc:".length());
    }

    /** Skips (or, under CI, fails) when the server is not there. */
    public void requireAvailable() {
        if (this == H2) return;
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
