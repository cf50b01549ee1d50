package dev.txguard.benchmarks;

import dev.txguard.stubdb.StubDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import net.ttddyy.dsproxy.support.ProxyDataSourceBuilder;
import org.h2.jdbcx.JdbcDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The ways of reaching a database that the benchmarks compare. Each variant runs in a JVM of its own
 * (the runner forks one per variant and round), so that they cannot disturb each other's JIT.
 */
final class Connections {

    static final String H2 = "h2";
    static final String POSTGRESQL = "postgresql";
    /** A database that does no work (StubDatabase): what is left of a call is the proxy's. */
    static final String STUB = "stub";
    /** For the JVMs that run against the stub: none of its methods, generated ones included, is inlined (see StubDatabase). */
    static final String[] STUB_JVM_ARGUMENTS = {"-XX:CompileCommand=quiet",
            "-XX:CompileCommand=dontinline," + StubDatabase.class.getPackageName() + ".*::*"};

    static final String RAW = "raw";
    static final String TXGUARD = "txguard";
    /** The raw URL in a JVM started with -javaagent:txguard-agent.jar (see Main). */
    static final String AGENT = "agent";
    /** The same with the agent argument application=dev.txguard.benchmarks.*: scope owners from instrumented activations. */
    static final String AGENT_ACTIVATIONS = "agent-activations";
    static final String P6SPY = "p6spy";
    static final String DATASOURCE_PROXY = "datasource-proxy";

    private Connections() {}

    /** Without the jdbc: prefix; one in-memory H2 database per JVM. */
    static String rawUrl(String database) {
        switch (database) {
            case H2: return "h2:mem:bench;DB_CLOSE_DELAY=-1";
            case POSTGRESQL: return "postgresql://127.0.0.1:5432/test?user=postgres";
            case STUB:
                StubDatabase.register();
                return "stub:";
            default: throw new IllegalArgumentException("unknown database '" + database + "'; use h2, postgresql or stub");
        }
    }

    static Connection open(String variant, String database) throws SQLException {
        String url = rawUrl(database);
        switch (variant) {
            case RAW:
                return checked(DriverManager.getConnection("jdbc:" + url), false);
            case AGENT:
            case AGENT_ACTIVATIONS:
                return checked(DriverManager.getConnection("jdbc:" + url), true);
            case TXGUARD:
                return checked(DriverManager.getConnection("jdbc:txguard:" + url), true);
            case P6SPY:
                // Its cheapest configuration: the spy module alone, no logging module, so no log output.
                System.setProperty("p6spy.config.modulelist", "com.p6spy.engine.spy.P6SpyFactory");
                System.setProperty("p6spy.config.jmxPrefix", "txguard-bench");
                System.setProperty("p6spy.config.jmx", "false");
                return DriverManager.getConnection("jdbc:p6spy:" + url);
            case DATASOURCE_PROXY:
                return ProxyDataSourceBuilder.create(dataSource(database)).build().getConnection(); // no listeners
            default:
                throw new IllegalArgumentException("unknown variant '" + variant + "'");
        }
    }

    /** The database's own DataSource, for Spring and datasource-proxy. */
    static DataSource dataSource(String database) {
        if (database.equals(STUB)) return StubDatabase.dataSource();
        if (database.equals(H2)) {
            JdbcDataSource ds = new JdbcDataSource();
            ds.setURL("jdbc:" + rawUrl(H2));
            return ds;
        }
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL("jdbc:" + rawUrl(POSTGRESQL));
        return ds;
    }

    /** A variant that measures the wrong thing is worse than none: txguard must be there exactly when named. */
    static Connection checked(Connection c, boolean guarded) {
        // txguard's own classes; the stub database's are in dev.txguard.stubdb
        boolean isGuarded = c.getClass().getName().startsWith("dev.txguard.internal.");
        if (isGuarded != guarded) {
            throw new IllegalStateException("expected a " + (guarded ? "guarded" : "raw") + " connection, got "
                    + c.getClass().getName() + (guarded ? " (is the agent loaded?)" : ""));
        }
        return c;
    }

    /** The accounts HotPath and Iteration read: ids 1 to 1,000. */
    static void createAccounts(Connection c, String database) throws SQLException {
        execute(c, "DROP TABLE IF EXISTS bench_accounts",
                "CREATE TABLE bench_accounts (id INT PRIMARY KEY, owner VARCHAR(40), balance BIGINT)",
                "INSERT INTO bench_accounts SELECT x, 'owner ' || x, 1000 FROM "
                        + (database.equals(POSTGRESQL) ? "generate_series(1, 1000) AS x" : "SYSTEM_RANGE(1, 1000)"));
    }

    static void execute(Connection c, String... statements) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : statements) s.execute(sql);
        }
    }
}
