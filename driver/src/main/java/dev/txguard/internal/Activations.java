package dev.txguard.internal;

/**
 * The method activations of each thread, as the agent's instrumentation reports them: every
 * method that makes a JDBC call, every method of the application's own classes that may run
 * application code ({@code txguard.application}), and every durable method reports its entry and its
 * exit. With them the engine knows who called without walking the stack, at a constant cost, and
 * tells apart two calls of one method from one call site, which a stack walk cannot.
 *
 * <p>Only when the agent is loaded at start-up: attached later, methods already running were entered
 * uninstrumented and would be missing, so the engine keeps walking the stack then.
 */
public final class Activations {

    /** Set once by the agent at start-up, before any application class is loaded. */
    static volatile boolean enabled;

    private static final ThreadLocal<Stack> STACKS = ThreadLocal.withInitial(Stack::new);

    /**
     * Each thread's activations again, in a slot chosen by its id: read with a plain load and an identity
     * check, where ThreadLocal.get often stays a call. That method is shared by every thread-local of the
     * JVM, and once the JIT has compiled it on its own it may be larger than the JIT inlines (measured in
     * docs/performance.md, "the thread's activations without ThreadLocal.get"). A slot is written only while it
     * is empty or its thread is gone, so two threads with the same slot never take it from each other: the second
     * goes on using its thread-local.
     * The thread-local stays what a thread's activations are; a slot only finds them faster.
     */
    static final Stack[] SLOTS = new Stack[1024];

    private Activations() {}

    /** The agent, at premain: from now on the instrumentation reports every activation. */
    public static void enable() {
        enabled = true;
    }

    /**
     * Entry of an instrumented method (type and method names are constants of its code). Returns the
     * thread's activations, which the method's exit is handed back: one lookup per call, not two.
     */
    public static Stack enter(String type, String method) {
        Stack stack = current();
        stack.push(type, method);
        return stack;
    }

    public static void exit(Stack stack) {
        stack.pop();
    }

    /**
     * Entry of a connection class's {@code close()}: calls made under it, before any other application
     * method is entered, are the connection being closed or returned to its pool.
     */
    public static void enterClose() {
        current().markClose();
    }

    public static void exitClose() {
        current().unmarkClose();
    }

    /** Entry of a connection pool's own method: calls made directly under it come from the pool. */
    public static void enterPool() {
        current().markPool();
    }

    public static void exitPool() {
        current().unmarkPool();
    }

    static Stack current() {
        Thread thread = Thread.currentThread();
        int slot = slotOf(thread);
        Stack slotted = SLOTS[slot];
        // Other threads write slots without synchronisation; of what a slot holds only the final field, all
        // that is read here, is sure to be seen as it was built.
        if (slotted != null && slotted.thread.get() == thread) return slotted;
        return claimSlot(slot);
    }

    static int slotOf(Thread thread) {
        return (int) thread.getId() & (SLOTS.length - 1);
    }

    private static Stack claimSlot(int slot) {
        Stack stack = STACKS.get();
        Stack occupant = SLOTS[slot];
        if (occupant == null || occupant.thread.get() == null) SLOTS[slot] = stack;
        return stack;
    }

    /**
     * One thread's activations, bottom first. Ids are unique within the thread, so an activation is never
     * mistaken for another. Public only so that the agent's inlined advice can hold it between entry and exit.
     */
    public static final class Stack {
        /** Weakly: a slot must not keep an ended thread alive, and a collected thread frees its slot. */
        final java.lang.ref.WeakReference<Thread> thread = new java.lang.ref.WeakReference<>(Thread.currentThread());
        String[] types = new String[16];
        String[] methods = new String[16];
        long[] ids = new long[16];
        int size;
        private long nextId;
        /** For each close() running, the number of activations below it; likewise for pool methods. */
        private int[] closeAt = new int[4];
        private int closes;
        private int[] poolAt = new int[4];
        private int pools;

        void push(String type, String method) {
            if (size == ids.length) grow();
            types[size] = type;
            methods[size] = method;
            ids[size++] = ++nextId;
        }

        /** The names left in the popped slot are constants of some class's code: keeping them holds nothing alive. */
        void pop() {
            if (size > 0) size--;
        }

        private void grow() {
            types = java.util.Arrays.copyOf(types, size * 2);
            methods = java.util.Arrays.copyOf(methods, size * 2);
            ids = java.util.Arrays.copyOf(ids, size * 2);
        }

        void markClose() {
            if (closes == closeAt.length) closeAt = java.util.Arrays.copyOf(closeAt, closes * 2);
            closeAt[closes++] = size;
        }

        void unmarkClose() {
            if (closes > 0) closes--;
        }

        void markPool() {
            if (pools == poolAt.length) poolAt = java.util.Arrays.copyOf(poolAt, pools * 2);
            poolAt[pools++] = size;
        }

        void unmarkPool() {
            if (pools > 0) pools--;
        }

        /** A close() runs with at most {@code reach} application activations above it. */
        boolean closingWithin(int reach) {
            return closes > 0 && size - closeAt[closes - 1] <= reach;
        }

        /** The innermost thing running is a pool's own method: no application method was entered since. */
        boolean inPool() {
            return pools > 0 && poolAt[pools - 1] == size;
        }
    }
}
