package dev.txguard.internal;

import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * txguard's warnings about events that can repeat (a stray rollback, a transaction the database ended, a connection
 * returned with work open, observe mode's findings): each is said at WARNING once per JVM for its key, which names
 * the database kind, the kind of event and its call sites; every later occurrence is counted and said at DEBUG only,
 * with its count. A workload that repeats one event at a high rate (serialization failures under SERIALIZABLE) so
 * writes one line, not a line per failure, and pays for an increment each later time. Keys are built from call
 * sites, so there are no more of them than places in the application's code. docs/logging.md lists every line.
 */
final class SaidOnce {

    private static final System.Logger LOG = System.getLogger("dev.txguard");
    private static final ConcurrentHashMap<String, LongAdder> COUNTS = new ConcurrentHashMap<>();

    private SaidOnce() {}

    /** Counts an occurrence of {@code key}; says {@code message} at WARNING the first time, at DEBUG later. */
    static void warn(String key, Supplier<String> message) {
        LongAdder count = COUNTS.get(key);
        if (count == null) {
            LongAdder first = new LongAdder();
            first.increment();
            count = COUNTS.putIfAbsent(key, first);
            if (count == null) {
                LOG.log(Level.WARNING, () -> message.get() + " [said once for this call site; later occurrences are"
                        + " counted, and logged at DEBUG]");
                return;
            }
        }
        count.increment();
        LongAdder seen = count;
        LOG.log(Level.DEBUG, () -> message.get() + " [occurrence " + seen.sum() + " at this call site]");
    }

    /** Every key said so far with its number of occurrences, sorted by key. */
    static Map<String, Long> counts() {
        Map<String, Long> counts = new TreeMap<>();
        COUNTS.forEach((key, count) -> counts.put(key, count.sum()));
        return counts;
    }

    /** For tests: the next occurrence of every key is said at WARNING again. */
    static void forget() {
        COUNTS.clear();
    }
}
