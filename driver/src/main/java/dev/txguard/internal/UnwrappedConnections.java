package dev.txguard.internal;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.sql.Connection;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The driver's own connections that an application reached through {@code unwrap}, each with the guarded
 * connection above it. Under the agent, the transaction methods of the driver's connection classes ask
 * here first: a call on an unwrapped connection goes to its guard, so that it is an engine event like any
 * other; the calls its engine makes itself go through to the database.
 *
 * <p>Until an application unwraps a connection, the agent's check is one read of {@link #any}. Entries
 * are weak on both sides, and removed when the guarded connection closes.
 */
final class UnwrappedConnections {

    /** Some connection was unwrapped in this JVM. */
    static volatile boolean any;

    /** Classes of which some instance was unwrapped: the others' calls are not looked up. */
    private static final ClassValue<boolean[]> UNWRAPPED_CLASS = new ClassValue<>() {
        @Override
        protected boolean[] computeValue(Class<?> type) {
            return new boolean[1];
        }
    };

    private static final ConcurrentHashMap<Key, WeakReference<TxConnection>> GUARDS = new ConcurrentHashMap<>();
    private static final ReferenceQueue<Object> COLLECTED = new ReferenceQueue<>();

    private UnwrappedConnections() {}

    static void register(Connection driverConnection, TxConnection guard) {
        for (Object gone; (gone = COLLECTED.poll()) != null; ) GUARDS.remove(gone);
        GUARDS.put(new Key(driverConnection, COLLECTED), new WeakReference<>(guard));
        // Its superclasses too: their methods are the ones a stack walk meets (see isDriverClass).
        for (Class<?> type = driverConnection.getClass(); type != null && Connection.class.isAssignableFrom(type);
             type = type.getSuperclass()) {
            UNWRAPPED_CLASS.get(type)[0] = true;
        }
        any = true;
    }

    /**
     * A class of an unwrapped connection: a frame of its methods under a transaction event is the call on its
     * way to the guard, and passes it along like txguard's own frames.
     */
    static boolean isDriverClass(Class<?> type) {
        return UNWRAPPED_CLASS.get(type)[0];
    }

    /** Unless another guard took the driver connection over since (a pooled physical connection's next handle). */
    static void unregister(Connection driverConnection, TxConnection guard) {
        GUARDS.computeIfPresent(new Key(driverConnection, null), (key, ref) -> ref.get() == guard ? null : ref);
    }

    /** The guard an application's call on this driver connection goes to; null when it goes to the database. */
    static TxConnection guardToCall(Connection driverConnection) {
        if (!UNWRAPPED_CLASS.get(driverConnection.getClass())[0]) return null;
        WeakReference<TxConnection> ref = GUARDS.get(new Key(driverConnection, null));
        TxConnection guard = ref == null ? null : ref.get();
        return guard == null || guard.engine.isCallingReal() ? null : guard;
    }

    /** Identity, not equals: a driver's connection class may define equality of its own. */
    private static final class Key extends WeakReference<Object> {
        private final int hash;

        Key(Object referent, ReferenceQueue<Object> queue) {
            super(referent, queue);
            this.hash = System.identityHashCode(referent);
        }

        @Override
        public int hashCode() {
            return hash;
        }

        @Override
        public boolean equals(Object other) {
            if (this == other) return true;
            if (!(other instanceof Key)) return false;
            Object mine = get();
            return mine != null && mine == ((Key) other).get();
        }
    }
}
