package dev.txguard.benchmarks;

import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * Counts the round trips each nested-scope variant makes to PostgreSQL: pgjdbc logs every Sync message
 * it sends at FINEST, and each Sync is one wait for the server.
 */
final class RoundTrips {

    private static final int UNITS = 200;

    private RoundTrips() {}

    static String table() throws Exception {
        Logger driverLog = Logger.getLogger("org.postgresql");
        AtomicLong syncs = new AtomicLong();
        Handler counter = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getMessage() != null && record.getMessage().contains("FE=> Sync")) syncs.incrementAndGet();
            }

            @Override
            public void flush() {}

            @Override
            public void close() {}
        };
        counter.setLevel(Level.ALL);
        StringBuilder out = new StringBuilder("| unit of work | variant | round trips per unit |\n|---|---|---|\n");
        String[] variants = {NestedScopes.FLAT, NestedScopes.HANDWRITTEN, NestedScopes.TXGUARD, NestedScopes.TXGUARD_EMPTY,
            NestedScopes.SPRING, NestedScopes.SPRING_EMPTY}; // activations change who owns a scope, not what is sent
        for (String variant : variants) {
            NestedScopes work = new NestedScopes();
            work.variant = variant;
            work.database = Connections.POSTGRESQL;
            work.open();
            work.empty();
            for (int i = 0; i < 20; i++) work.outerWithNested(); // statement caches warm
            driverLog.setLevel(Level.FINEST);
            driverLog.addHandler(counter);
            syncs.set(0);
            for (int i = 0; i < UNITS; i++) work.outerWithNested();
            driverLog.removeHandler(counter);
            driverLog.setLevel(Level.INFO);
            work.close();
            out.append(String.format(Locale.ROOT, "| outer insert + nested insert, commit | %s | %.1f |%n", variant,
                    (double) syncs.get() / UNITS));
        }
        return out.toString();
    }
}
