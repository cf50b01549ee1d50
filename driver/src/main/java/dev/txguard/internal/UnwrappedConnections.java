package dev.txguard.internal;

import java.lang.ref.ReferenceQueue;
import java.lang.ref.WeakReference;
import java.sql.Connection;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The driver's own connections that an application reached through {@code unwrap}, each with the guarded
 * connection above it, and the connections the agent put a guard over in place (a pool's or driver's own
 * class, which a guard cannot be returned as). Under the agent, the transaction methods of connection
 * classes ask here first: a call on such a connection goes to its guard, so that it is an engine event like
 * any other; the calls its engine makes itself go through to the database.
 *
 * <p>Until an application unwraps a connection, the agent's check is one read of {@link #any}. Entries
 * are weak on both sides, and removed when the guarded connection closes; a guard put over a connection in
 * place is held until then.
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
    /**
     * Guards put over a connection in place (Guard.guardInPlace), until they close: the application holds the
     * connection, not the guard, so nothing else keeps the guard alive.
     */
    private static final java.util.Set<TxConnection> IN_PLACE = ConcurrentHashMap.newKeySet();

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
        IN_PLACE.remove(guard);
    }

    static void holdInPlace(TxConnection guard) {
        IN_PLACE.add(guard);
    }

    /** The guard put over this connection in place, while it is open; null when there is none. */
    static TxConnection guardInPlaceOf(Connection connection) {
        TxConnection guard = guardOf(connection);
        return guard != null && IN_PLACE.contains(guard) ? guard : null;
    }

    /** The guard an application's call on this driver connection goes to; null when it goes to the database. */
    static TxConnection guardToCall(Connection driverConnection) {
        TxConnection guard = guardOf(driverConnection);
        return guard == null || guard.engine.isCallingReal() ? null : guard;
    }

    /** The guard over this connection: the one it was unwrapped from, or put over it in place; null when none. */
    static TxConnection guardOf(Connection connection) {
        if (!UNWRAPPED_CLASS.get(connection.getClass())[0]) return null;
        WeakReference<TxConnection> ref = GUARDS.get(new Key(connection, null));
        return ref == null ? null : ref.get();
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
