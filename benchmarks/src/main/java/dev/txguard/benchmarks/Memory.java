package dev.txguard.benchmarks;

import java.lang.management.ManagementFactory;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Issue 4 part 5, what JMH's GC profiler does not show: the heap a guarded connection adds, and that
 * the heap does not grow with the transactions a connection has seen.
 */
final class Memory {

    private static final int CONNECTIONS = 1000;

    private Memory() {}

    static String report(int transactions) throws Exception {
        StringBuilder out = new StringBuilder();
        long raw;
        long guarded;
        // The database itself is created by the first connection and kept by this one, outside the measure;
        // each kind is measured twice, alternately, and the second figures are kept (the first pay for class loading).
        try (Connection keeper = Connections.open(Connections.RAW, Connections.H2)) {
            heldBy(Connections.RAW);
            heldBy(Connections.TXGUARD);
            raw = heldBy(Connections.RAW);
            guarded = heldBy(Connections.TXGUARD);
        }
        out.append(String.format(Locale.ROOT, "Heap per open connection, H2 in-memory, %d connections: raw %d bytes,"
                + " through txguard %d bytes: txguard adds %d bytes per connection (connection wrapper and engine).%n%n",
                CONNECTIONS, raw, guarded, guarded - raw));
        out.append(growth(transactions));
        return out.toString();
    }

    /** Heap held per connection: open many, measure after a full GC, close them. */
    private static long heldBy(String variant) throws SQLException {
        long before = usedAfterGc();
        List<Connection> open = new ArrayList<>(CONNECTIONS);
        for (int i = 0; i < CONNECTIONS; i++) open.add(Connections.open(variant, Connections.H2));
        long after = usedAfterGc();
        for (Connection c : open) c.close();
        return (after - before) / CONNECTIONS;
    }

    /** One guarded connection runs service/DAO transactions (a nested scope each); the heap must stay flat. */
    private static String growth(int transactions) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:txguard:" + Connections.rawUrl(Connections.H2))) {
            Connections.execute(c, "DROP TABLE IF EXISTS bench_growth", "CREATE TABLE bench_growth (id INT PRIMARY KEY, n BIGINT)",
                    "INSERT INTO bench_growth VALUES (1, 0)");
            try (PreparedStatement update = c.prepareStatement("UPDATE bench_growth SET n = n + 1 WHERE id = 1")) {
                long[] used = new long[4];
                int step = transactions / 4;
                // A quarter first, unmeasured: the JVM's and H2's own first-time allocations (about half a megabyte,
                // raw connections alike) land in it, not in the growth.
                for (int i = 0; i < step; i++) service(c, update, i);
                for (int quarter = 0; quarter < 4; quarter++) {
                    for (int i = 0; i < step; i++) service(c, update, i);
                    used[quarter] = usedAfterGc();
                }
                return String.format(Locale.ROOT, "Heap after a full GC while one guarded connection runs %,d transactions"
                        + " (each a service scope around a nested DAO scope, with an application savepoint every tenth"
                        + " and a rollback every seventh), after a quarter as many to warm up: %,d / %,d / %,d / %,d bytes"
                        + " after each quarter.%n",
                        transactions, used[0], used[1], used[2], used[3]);
            }
        }
    }

    private static void service(Connection c, PreparedStatement update, int i) throws SQLException {
        c.setAutoCommit(false);
        try {
            update.executeUpdate();
            if (i % 10 == 0) c.setSavepoint();
            dao(c, update);
            if (i % 7 == 0) c.rollback(); else c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static void dao(Connection c, PreparedStatement update) throws SQLException {
        c.setAutoCommit(false);
        try {
            update.executeUpdate();
            c.commit();
        } finally {
            c.setAutoCommit(true);
        }
    }

    private static long usedAfterGc() {
        for (int i = 0; i < 3; i++) System.gc();
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
