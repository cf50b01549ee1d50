package dev.txguard.samples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.txguard.samples.bank.LegacyBank;
import java.util.Properties;
import javax.sql.ConnectionPoolDataSource;
import javax.sql.DataSource;
import org.h2.jdbcx.JdbcDataSource;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.ds.PGConnectionPoolDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The legacy bank as an application with no txguard code, wired the ways applications obtain
 * connections. The agent's tests run it in a separate JVM:
 * {@code java -javaagent:txguard-agent.jar -cp … dev.txguard.samples.BankApp <layout> <plain JDBC URL>}
 * with layout one of {@code drivermanager}, {@code vendor-datasource}, {@code pooled-connection},
 * {@code hikari-url}, {@code hikari-datasource-class}. It prints what happened; what was committed is for another
 * connection to check.
 */
public final class BankApp {

    public static void main(String[] args) throws Exception {
        if (args.length < 2 || args.length > 3 || (args.length == 3 && !args[2].equals("await-attach"))) {
            System.err.println("usage: BankApp drivermanager|vendor-datasource|pooled-connection|hikari-url|hikari-datasource-class"
                    + " <jdbc url> [await-attach]");
            System.exit(2);
        }
        String layout = args[0];
        String url = args[1];
        DataSource dataSource = wire(layout, url);
        try {
            if (args.length == 3) awaitAttach(dataSource);
            LegacyBank bank = new LegacyBank(dataSource);
            bank.open();
            System.out.println("transfer: " + bank.transferWithFailingAudit());
            System.out.println("checkout: " + bank.wireInsideCheckout());
            System.out.println("queued: " + bank.queueWireForLater());
            System.out.println("refund: " + bank.refundWithFeeThroughTheDriver());
            System.out.println("connection: " + bank.connectionClass());
        } finally {
            if (dataSource instanceof HikariDataSource) ((HikariDataSource) dataSource).close();
        }
    }

    /**
     * For the agent's attach test: the drivers are loaded and the pool has its first connection before
     * the agent arrives, as in a JVM that has been running for a while; then wait for a line on stdin.
     */
    private static void awaitAttach(DataSource dataSource) throws Exception {
        java.sql.DriverManager.getDrivers();
        dataSource.getConnection().close();
        System.out.println("ready " + ProcessHandle.current().pid());
        System.out.flush();
        new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8))
                .readLine();
    }

    static DataSource wire(String layout, String url) throws Exception {
        switch (layout) {
            case "drivermanager":
                return new UrlDataSource(url);
            case "vendor-datasource":
                return vendorDataSource(url);
            case "pooled-connection":
                return new PooledConnectionDataSource(connectionPoolDataSource(url));
            case "hikari-url": {
                HikariConfig config = new HikariConfig();
                config.setJdbcUrl(url);
                config.setMaximumPoolSize(2);
                return new HikariDataSource(config);
            }
            case "hikari-datasource-class": {
                HikariConfig config = new HikariConfig();
                config.setDataSourceClassName(vendorDataSource(url).getClass().getName());
                Properties p = new Properties();
                p.setProperty(url.startsWith("jdbc:h2:") ? "URL" : "url", url);
                config.setDataSourceProperties(p);
                config.setMaximumPoolSize(2);
                return new HikariDataSource(config);
            }
            default:
                throw new IllegalArgumentException("unknown layout '" + layout + "'; allowed: drivermanager,"
                        + " vendor-datasource, pooled-connection, hikari-url, hikari-datasource-class");
        }
    }

    private static ConnectionPoolDataSource connectionPoolDataSource(String url) throws Exception {
        if (url.startsWith("jdbc:postgresql:")) {
            PGConnectionPoolDataSource pg = new PGConnectionPoolDataSource();
            pg.setURL(url);
            return pg;
        }
        return (ConnectionPoolDataSource) vendorDataSource(url); // H2's and MariaDB's serve both
    }

    private static DataSource vendorDataSource(String url) throws Exception {
        if (url.startsWith("jdbc:h2:")) {
            JdbcDataSource h2 = new JdbcDataSource();
            h2.setURL(url);
            return h2;
        }
        if (url.startsWith("jdbc:postgresql:")) {
            PGSimpleDataSource pg = new PGSimpleDataSource();
            pg.setURL(url);
            return pg;
        }
        if (url.startsWith("jdbc:mariadb:")) {
            return new MariaDbDataSource(url);
        }
        throw new IllegalArgumentException("no vendor DataSource for " + url);
    }
}
