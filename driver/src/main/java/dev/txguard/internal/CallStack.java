package dev.txguard.internal;

import java.lang.reflect.InvocationHandler;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;

/**
 * The application frames of the current thread at one moment, caller first. Only the top of the stack
 * is walked, a fixed number of frames, so that what a transaction event costs does not grow with the
 * depth of the stack; the rest is walked only when a question cannot be answered from the top.
 *
 * <p>An activation is recognised by its frame and the frames below it, as many as the begin's walk
 * took ({@link #BEGIN_WALK}): the callers below a running method are frozen, each at the call site
 * (bytecode index) that called up. So the frame at some position of another moment's stack is the same
 * activation when the method and the frozen frames below it agree. Two calls of one method from one
 * call site, one after the other, look alike, and so do two levels of a recursion deeper than the walk:
 * see docs/semantics.md.
 *
 * <p>Frames that only pass a call along are left out, so that a call made through them counts as
 * their caller's: txguard's own, the JDK's (reflection, dynamic proxies), connection pools and
 * statement spies, {@link InvocationHandler}s (an application's own connection proxy), every other
 * class that implements Connection (a pool's handle, an application server's wrapper, the
 * application's own), the classes named in {@code txguard.helpers}, and a driver's connection class
 * once the application unwrapped one (its methods pass the application's call to the guard: see
 * UnwrappedConnections).
 */
final class CallStack {

    /**
     * Frames walked for a begin: the frame that begins and those below it, which identify it and are the
     * frames its scope passes to when it returns. Walking costs a fraction of a microsecond per frame.
     */
    static final int BEGIN_WALK = 16;
    /** Frames walked at first for other events; more when a question needs them. */
    private static final int EVENT_WALK = BEGIN_WALK + 2;
    /** A pool's close() sits right under the calls it makes: it is looked for among this many application frames. */
    private static final int CLOSING_REACH = 4;

    /**
     * Walkers told different depths (1 to 128 frames). The VM hands a walk its frames in batches, the first
     * as large as the walker's estimate, and resolves the method of every frame it puts in a batch: about a
     * tenth of a microsecond each on JDK 17, read or not. A walk that needs one frame more than its first
     * batch holds pays for a whole second batch (1.5 to 3 us on JDK 17). So each kind of walk asks for what
     * the last walk of its kind read (txguard's frames, a pool's, the application's), plus the batch's own
     * slots and one frame of slack: a begin and another event, or two events through different wrappers,
     * read different numbers of txguard's frames.
     */
    private static final StackWalker[] WALKERS = new StackWalker[128];

    static {
        for (int i = 0; i < WALKERS.length; i++) {
            // SHOW_REFLECT_FRAMES: the JDK's reflection frames are pass-through here anyway, and without the
            // option the JDK tests every frame's class for them, which cost a third of a walk on JDK 17.
            WALKERS[i] = StackWalker.getInstance(java.util.Set.of(StackWalker.Option.RETAIN_CLASS_REFERENCE,
                    StackWalker.Option.SHOW_REFLECT_FRAMES), i + 1);
        }
    }

    /** Frames the last begin's walk, and the last other event's, read: hints, on any thread, unsynchronised. */
    private static int beginFramesRead = BEGIN_WALK + 4;
    private static int eventFramesRead = EVENT_WALK + 4;
    /** Slots of a first batch the walk itself takes (JDK 17), and the slack for a frame more than last time. */
    private static final int WALK_OVERHEAD = 3 + 1;

    /** A walk's limit that keeps every application frame. */
    private static final int WHOLE = Integer.MAX_VALUE;

    private static StackWalker walkerFor(int frames) {
        return WALKERS[Math.min(Math.min(frames, WALKERS.length) + WALK_OVERHEAD, WALKERS.length) - 1];
    }

    private static final String[] TRANSPARENT_PREFIXES = {
        "dev.txguard.internal.", "dev.txguard.TxGuard",
        "java.", "javax.", "jdk.", "sun.", "com.sun.",
        "com.zaxxer.hikari.", "com.p6spy.", "net.ttddyy.dsproxy.",
        "org.apache.commons.dbcp2.", "org.apache.tomcat.dbcp.", "com.mchange.v2.c3p0.", "org.apache.tomcat.jdbc.pool.",
        "com.alibaba.druid.pool.", "io.agroal.", "org.vibur.dbcp.", "oracle.ucp.",
        // Spring's transaction managers (JDBC, Hibernate, JPA), templates and interceptors begin, commit and roll
        // back on behalf of the method whose transaction it is, and JdbcTemplate runs its statements
        "org.springframework.jdbc.", "org.springframework.transaction.", "org.springframework.aop.",
        "org.springframework.orm.",
        // Data-access frameworks do the same for the application method that opened their session or handle, or
        // called their transaction method: MyBatis (and its Spring bridge), jOOQ, JDBI, Hibernate
        "org.apache.ibatis.", "org.mybatis.spring.", "org.jooq.", "org.jdbi.v3.", "org.hibernate.",
    };

    /**
     * Code that begins a transaction in one call and ends it in a later sibling call, on behalf of a whole run rather
     * than of the method that called it: Spring's test context begins each test's transaction before the test method
     * runs and rolls it back after it. A scope it begins is owned by no frame, like work nobody began, so the end
     * that comes from its later call is never taken for a stray one.
     */
    private static final String[] RUN_OWNER_PREFIXES = {"org.springframework.test.context.transaction."};

    /** Connection pools: their own code (not their connection proxies) configures and resets connections. */
    private static final String[] POOL_PREFIXES = {
        "com.zaxxer.hikari.", "org.apache.commons.dbcp2.", "org.apache.tomcat.dbcp.", "com.mchange.v2.c3p0.",
        "org.apache.tomcat.jdbc.pool.", "com.alibaba.druid.pool.", "oracle.ucp.", "io.agroal.pool.", "org.vibur.dbcp.",
        // Hibernate's built-in pool sets its connections' autocommit as it hands one out and takes it back;
        // MyBatis's data sources set it, and roll back as they hand a connection out and take it back
        "org.hibernate.engine.jdbc.connections.internal.", "org.apache.ibatis.datasource.",
    };

    /**
     * Pools that decide from their own reading of a connection's transaction state whether to pass a call on:
     * Druid drops a setAutoCommit that matches its record of autocommit, and a rollback() while the record says
     * autocommit is on; Agroal drops a setAutoCommit that matches the connection's getAutoCommit(), which a
     * guard reports false inside any scope; Atomikos refuses commit(), rollback() and setAutoCommit(true) while
     * its connection is in a global transaction. A guard beneath such a pool never sees a DAO's nested begin, or
     * never its end, so the agent guards the pool's handles instead of the physical connections it opens. So it
     * does for Oracle's UCP, for another reason: UCP calls nothing on a connection it takes back, so beneath it
     * the return goes unseen, and only its handle's close() says that a borrower is done.
     */
    private static final String[] STATEFUL_POOL_PREFIXES = {"com.alibaba.druid.pool.", "io.agroal.pool.", "com.atomikos.",
        "oracle.ucp."};

    /** The agent instrumented a class of such a pool: until then no connection is looked at for one. */
    private static volatile boolean statefulPoolLoaded;

    static void instrumented(String className) {
        if (startsWithAny(className, STATEFUL_POOL_PREFIXES)) statefulPoolLoaded = true;
    }

    /**
     * Whether what {@code source} returns is a physical connection of a pool that decides from its own reading
     * of transaction state ({@link #STATEFUL_POOL_PREFIXES}), not one of the handles it hands out: what one of
     * the pool's own PooledConnections returns (Druid's handle, Agroal's adaptor over a physical connection), or
     * a connection from a driver, data source or pooled connection while the pool's code is on the stack. Only
     * the pool's DataSource hands out handles. Walks the stack, but only once such a pool is loaded, and only for
     * a connection about to be guarded: a physical one, not every borrow from a pool.
     */
    static boolean opensForStatefulPool(Object source) {
        if (!statefulPoolLoaded) return false;
        if (startsWithAny(source.getClass().getName(), STATEFUL_POOL_PREFIXES)) return !(source instanceof javax.sql.DataSource);
        return StackWalker.getInstance().walk(
                frames -> frames.anyMatch(f -> startsWithAny(f.getClassName(), STATEFUL_POOL_PREFIXES)));
    }

    /** What a frame's class is to a walk: bits of {@link #KINDS}. */
    private static final int OURS = 1;
    /** Its frames pass a call along (see the class comment); OURS is one of them. */
    private static final int PASS_THROUGH = 2;
    /** A pool's own code, not its connection proxy. */
    private static final int POOL_CODE = 4;
    /** A connection class, not a dynamic proxy (see {@link #inPoolsHands}). */
    private static final int CONNECTION = 8;
    /** Begins and ends transactions for a whole run ({@link #RUN_OWNER_PREFIXES}). */
    private static final int RUN_OWNER = 16;

    /**
     * Each class's kind, worked out once: matching a class name against the prefixes above on every frame of
     * every walk cost more than a tenth of the walk. (Whether a driver class was unwrapped changes while the
     * JVM runs, and helpers match methods, so those two are checked on each frame.)
     */
    private static final ClassValue<Integer> KINDS = new ClassValue<>() {
        @Override
        protected Integer computeValue(Class<?> type) {
            String name = type.getName();
            boolean connection = Connection.class.isAssignableFrom(type);
            int kind = 0;
            if (name.startsWith("dev.txguard.internal.")) kind |= OURS;
            if (startsWithAny(name, TRANSPARENT_PREFIXES) || InvocationHandler.class.isAssignableFrom(type)) kind |= PASS_THROUGH;
            if (startsWithAny(name, POOL_PREFIXES) && !connection) kind |= POOL_CODE;
            if (startsWithAny(name, RUN_OWNER_PREFIXES)) kind |= RUN_OWNER;
            // A connection class that calls a connection passes on its own caller's call: a pool's handle, an
            // application server's wrapper, an application's own (as the agent does not take their methods for
            // activations either)
            if (connection && !java.lang.reflect.Proxy.isProxyClass(type)) kind |= CONNECTION | PASS_THROUGH;
            return kind; // boxed from Integer's cache of small values
        }
    };

    private final MethodPattern[] helpers;
    /** Application frames, caller first; the first {@code count} are filled. */
    private StackWalker.StackFrame[] frames;
    private int count;
    /** The walk reached the bottom of the stack: there are no frames beyond {@code count}. */
    private boolean complete;
    /**
     * The connection is in its pool's hands, and whatever the application left open on it is over. Either
     * some connection class's {@code close()} is running just below: the connection is being closed, or
     * handed back to its pool (HikariCP, DBCP, c3p0 and hand-written pools implement Connection); dynamic
     * proxies are left out, as they are how applications write wrappers that only restore attributes on
     * close (Quartz), and their restore is an ordinary end event. Or the call comes straight from a pool's
     * own code rather than through its connection proxy: the pool is configuring the connection (HikariCP's
     * setupConnection with autoCommit=false), or resetting it as it takes it back or hands it out.
     */
    final boolean inPoolsHands;
    /** For a walk: the caller begins and ends transactions on behalf of a whole run ({@link #RUN_OWNER_PREFIXES}). */
    private final boolean walkedCallerActsForTheRun;

    /*
     * Under the agent loaded at start-up the frames are the thread's instrumented activations
     * (Activations) instead, copied top first at the capture, less the helpers' (as frames of helpers
     * are left out of a walk). An activation is known by its id and its place from the bottom of the
     * thread's activations, where it stays while it runs: exact, and cheap.
     *
     * A begin keeps its capture, so it copies them. Other events use their capture only while they are
     * handled, when every activation below the event's caller is still running, so without helpers to
     * leave out they read the thread's activations in place (ids null): nothing is copied at any depth.
     */
    private final Activations.Stack live;
    /** For a capture read in place: the thread's activations at the capture. */
    private final int liveSize;
    private final long[] ids;
    /** Each copied activation's place, from the bottom of the thread's activations. */
    private final int[] places;
    private final String[] types;
    private final String[] methods;

    private CallStack(MethodPattern[] helpers, StackWalker.StackFrame[] frames, int count, boolean complete,
                      boolean inPoolsHands, boolean callerActsForTheRun) {
        this.helpers = helpers;
        this.frames = frames;
        this.count = count;
        this.complete = complete;
        this.inPoolsHands = inPoolsHands;
        this.walkedCallerActsForTheRun = callerActsForTheRun;
        this.live = null;
        this.liveSize = 0;
        this.ids = null;
        this.places = null;
        this.types = null;
        this.methods = null;
    }

    private CallStack(Activations.Stack live, MethodPattern[] helpers, boolean kept) {
        this.helpers = helpers;
        this.live = live;
        this.complete = true;
        this.inPoolsHands = live.closingWithin(CLOSING_REACH) || live.inPool();
        this.walkedCallerActsForTheRun = false;
        int size = live.size;
        this.liveSize = size;
        if (!kept && helpers.length == 0) {
            this.count = size;
            this.ids = null;
            this.places = null;
            this.types = null;
            this.methods = null;
            return;
        }
        long[] ids = new long[size];
        int[] places = new int[size];
        String[] types = new String[size];
        String[] methods = new String[size];
        int n = 0;
        for (int place = size - 1; place >= 0; place--) {
            if (MethodPattern.anyMatches(helpers, live.types[place], live.methods[place])) continue;
            ids[n] = live.ids[place];
            places[n] = place;
            types[n] = live.types[place];
            methods[n] = live.methods[place];
            n++;
        }
        this.count = n;
        this.ids = ids;
        this.places = places;
        this.types = types;
        this.methods = methods;
    }

    /*
     * The capture methods below walk the stack themselves, reading the frames in a lambda that runs above
     * the walk's starting point: every frame of txguard between the application and the walk is one more
     * frame the VM resolves for the walker (about a tenth of a microsecond on JDK 17), so the engine calls
     * them straight from its event methods, and the wrappers call those straight from the JDBC method.
     */

    /** For a begin: deep enough to recognise it later, and to find the frames its scope passes to. */
    static CallStack captureBegin(Config config) {
        MethodPattern[] helpers = config.helpers;
        if (Activations.enabled) return new CallStack(Activations.current(), helpers, true);
        if (config.checksDurability()) return walkerFor(WHOLE).walk(frames -> read(frames, helpers, WHOLE));
        return walkerFor(beginFramesRead).walk(frames -> read(frames, helpers, BEGIN_WALK));
    }

    /** For any other event: used only while the event is handled. */
    static CallStack capture(Config config) {
        MethodPattern[] helpers = config.helpers;
        if (Activations.enabled) return new CallStack(Activations.current(), helpers, false);
        if (config.checksDurability()) return walkerFor(WHOLE).walk(frames -> read(frames, helpers, WHOLE));
        return walkerFor(eventFramesRead).walk(frames -> read(frames, helpers, EVENT_WALK));
    }

    /** The whole stack at once: for durable checks, which must see a durable method however deep it is. */
    static CallStack captureWhole(MethodPattern[] helpers) {
        if (Activations.enabled) return new CallStack(Activations.current(), helpers, true);
        return walkerFor(WHOLE).walk(frames -> read(frames, helpers, WHOLE));
    }

    /** Walks again from the top, deeper: see {@link #has}. */
    private static CallStack walk(MethodPattern[] helpers, int limit) {
        return walkerFor(limit).walk(frames -> read(frames, helpers, limit));
    }

    /** Keeps up to {@code limit} application frames ({@link #WHOLE}: all of them). */
    private static CallStack read(java.util.stream.Stream<StackWalker.StackFrame> stream, MethodPattern[] helpers,
                                  int limit) {
        List<StackWalker.StackFrame> kept = new ArrayList<>(Math.min(limit, 64));
        boolean closing = false;
        int callerSeen = 0; // 0: not yet, 1: the caller is a pool's own code, 2: anything else
        boolean complete = true;
        boolean callerActsForTheRun = false;
        int read = 0;
        for (java.util.Iterator<StackWalker.StackFrame> it = stream.iterator(); it.hasNext(); ) {
            if (kept.size() == limit) {
                complete = false;
                break;
            }
            StackWalker.StackFrame f = it.next();
            read++;
            int kind = KINDS.get(f.getDeclaringClass());
            if ((kind & OURS) != 0) continue;
            // A connection class passes on the call of whoever called it: a pool's own code (Druid configures its
            // connections through its wrapper), or the application.
            if (callerSeen == 0 && (kind & CONNECTION) == 0) callerSeen = (kind & POOL_CODE) != 0 ? 1 : 2;
            if (!closing && (kind & CONNECTION) != 0 && kept.size() <= CLOSING_REACH && f.getMethodName().equals("close")) {
                closing = true;
            }
            if (isTransparent(f, kind, helpers)) continue;
            if (kept.isEmpty()) callerActsForTheRun = (kind & RUN_OWNER) != 0;
            kept.add(f);
        }
        // Only a begin's and an event's first walk tell the next one of their kind what to expect.
        if (limit == BEGIN_WALK) beginFramesRead = read; else if (limit == EVENT_WALK) eventFramesRead = read;
        return new CallStack(helpers, kept.toArray(new StackWalker.StackFrame[0]), kept.size(), complete,
                closing || callerSeen == 1, callerActsForTheRun);
    }

    /** Classes whose frames pass a call along (the JDK's, txguard's, pools' and spies'). */
    static boolean isPassThrough(String cls) {
        return startsWithAny(cls, TRANSPARENT_PREFIXES);
    }

    static boolean isPool(String cls) {
        return startsWithAny(cls, POOL_PREFIXES);
    }

    private static boolean startsWithAny(String cls, String[] prefixes) {
        for (String prefix : prefixes) {
            if (cls.startsWith(prefix)) return true;
        }
        return false;
    }

    private static boolean isTransparent(StackWalker.StackFrame f, int kind, MethodPattern[] helpers) {
        if ((kind & PASS_THROUGH) != 0) return true;
        if (UnwrappedConnections.any && UnwrappedConnections.isDriverClass(f.getDeclaringClass())) return true;
        return helpers.length > 0 && MethodPattern.anyMatches(helpers, f.getClassName(), f.getMethodName());
    }

    /** Whether a frame exists at this position (caller = 0), walking further down the stack if needed. */
    private boolean has(int position) {
        if (live != null) return position >= 0 && position < count;
        while (position >= count && !complete) {
            // Walked again from the top, from a frame or two deeper in txguard: the application frames are the same.
            CallStack deeper = walk(helpers, count >= WHOLE / 4 ? WHOLE : Math.max(count, 4) * 4);
            frames = deeper.frames;
            count = deeper.count;
            complete = deeper.complete;
        }
        return position < count;
    }

    /** The caller begins and ends transactions on behalf of a whole run, not of itself ({@link #RUN_OWNER_PREFIXES}). */
    boolean callerActsForTheRun() {
        if (live == null) return walkedCallerActsForTheRun;
        return count > 0 && startsWithAny(className(0), RUN_OWNER_PREFIXES); // asked at a begin only
    }

    /** There is an application frame: the caller. */
    boolean hasCaller() {
        return has(0);
    }

    /**
     * Where the activation at {@code index} of {@code then} (an earlier capture, never walked further) is
     * on this stack: its position, or -1 when it has returned.
     */
    int find(CallStack then, int index) {
        if (index < 0 || index >= then.count) return -1;
        if (live != null) {
            if (then.live != live) return -1; // begun on another thread
            int place = then.placeOf(index);
            long id = then.idOf(index);
            if (ids == null) {
                int p = liveSize - 1 - place;
                return p >= 0 && p < count && live.ids[place] == id ? p : -1;
            }
            for (int p = 0; p < count; p++) {
                if (places[p] == place) return ids[p] == id ? p : -1;
                if (places[p] < place) return -1;
            }
            return -1;
        }
        for (int p = 0; has(p); p++) {
            if (sameActivation(then, index, p)) return p;
        }
        return -1;
    }

    private int placeOf(int position) {
        return ids == null ? liveSize - 1 - position : places[position];
    }

    private long idOf(int position) {
        return ids == null ? live.ids[liveSize - 1 - position] : ids[position];
    }

    /** Whether the caller of this moment is the activation at {@code index} of {@code then}. */
    boolean callerIs(CallStack then, int index) {
        if (live != null) return find(then, index) == 0;
        return index >= 0 && index < then.count && has(0) && sameActivation(then, index, 0);
    }

    /**
     * Same method, and below it the same call sites as far as the earlier capture goes: the frames below a
     * running activation are frozen, so for the same activation they all agree.
     */
    private boolean sameActivation(CallStack then, int index, int position) {
        if (!sameMethod(then.frames[index], frames[position])) return false;
        for (int i = 1; ; i++) {
            // Compared as far as both walks went: walking further costs a whole walk again, for frames that
            // are far below both.
            boolean nowHas = position + i < count;
            if (!nowHas && !complete) return true;
            if (index + i >= then.count) return !nowHas || !then.complete; // what the earlier capture has agrees
            if (!nowHas) return false;
            StackWalker.StackFrame a = then.frames[index + i];
            StackWalker.StackFrame b = frames[position + i];
            // A frozen frame's class and call site (bytecode index) identify it; its method name adds little.
            if (a.getByteCodeIndex() != b.getByteCodeIndex() || a.getDeclaringClass() != b.getDeclaringClass()) return false;
        }
    }

    /** The class first: it is cheap, where the method's name costs the walker a lookup. */
    private static boolean sameMethod(StackWalker.StackFrame a, StackWalker.StackFrame b) {
        return a.getDeclaringClass() == b.getDeclaringClass() && a.getMethodName().equals(b.getMethodName());
    }

    /** Frames of this capture that may own a scope: the caller and those below it, as far as it was walked. */
    int walked() {
        return count;
    }

    /** Position of the innermost frame matching one of the patterns (walking as deep as needed), or -1. */
    int innermostMatching(MethodPattern[] patterns) {
        for (int p = 0; has(p); p++) {
            if (MethodPattern.anyMatches(patterns, className(p), methodName(p))) return p;
        }
        return -1;
    }

    private String className(int position) {
        if (live == null) return frames[position].getClassName();
        return ids == null ? live.types[liveSize - 1 - position] : types[position];
    }

    private String methodName(int position) {
        if (live == null) return frames[position].getMethodName();
        return ids == null ? live.methods[liveSize - 1 - position] : methods[position];
    }

    String method(int position) {
        if (position < 0 || !has(position)) return "(no application frame)";
        return className(position) + "." + methodName(position);
    }

    /**
     * A frame as a stack trace shows it: {@code com.acme.Service.transfer(Service.java:42)}. (Under the
     * agent, without the line: instrumentation reports the method, not where in it the call was.)
     */
    String describe(int position) {
        if (live != null) return method(position);
        if (position < 0 || !has(position)) return "(no application frame)";
        StackWalker.StackFrame f = frames[position];
        String file = f.getFileName();
        int line = f.getLineNumber();
        return method(position) + "(" + (file == null ? "Unknown Source" : file) + (line > 0 ? ":" + line : "") + ")";
    }
}
