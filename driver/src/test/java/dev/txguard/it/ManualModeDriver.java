package dev.txguard.it;

import dev.txguard.internal.EngineProbe;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;

/**
 * A driver whose connections open in manual mode (autocommit off) and commit at close what is left uncommitted,
 * as Oracle's driver commits at close: {@code jdbc:manualmode:h2:mem:x} is H2's {@code jdbc:h2:mem:x} so. It shows
 * who ends the work a connection's user leaves open: whatever reaches this driver's close is committed.
 */
final class ManualModeDriver extends PrefixedTestDriver {

    static {
        try {
            DriverManager.registerDriver(new ManualModeDriver());
        } catch (SQLException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private ManualModeDriver() {
        super("manualmode");
    }

    /** This driver's URL over a database's own (and the driver registered). */
    static String url(String rawUrl) {
        return "jdbc:manualmode:" + rawUrl.substring("jdbc:".length());
    }

    @Override
    Connection open(String rest, Properties info) throws SQLException {
        // The database's own connection even under the agent, which guards this driver's connections instead
        Connection physical = EngineProbe.unguarded(DriverManager.getConnection("jdbc:" + rest, info));
        physical.setAutoCommit(false);
        return new ConnectionForwarder(physical) {
            @Override
            public void close() throws SQLException {
                if (!physical.isClosed() && !physical.getAutoCommit()) physical.commit();
                physical.close();
            }
        };
    }
}
