package dev.txguard.internal;

import java.sql.Connection;
import java.sql.Driver;
import java.sql.DriverPropertyInfo;
import java.sql.SQLException;
import java.util.Properties;

/**
 * How a connection becomes guarded: the one entry point of this package for the public driver and
 * data source (and later the agent). Not part of txguard's API.
 */
public final class Guard {

    private Guard() {}

    public static boolean acceptsUrl(String url) {
        return url != null && url.startsWith(Delegates.PREFIX);
    }

    /** Connects a {@code jdbc:txguard:} URL through the real driver and guards the result. */
    public static Connection connect(String url, Properties info) throws SQLException {
        Config config = Config.forConnection(info); // a bad setting fails before any connection opens
        String realUrl = Delegates.realUrl(url);
        Driver driver = Delegates.driverFor(realUrl, url);
        if (TestTransactions.open) {
            Connection pinned = TestTransactions.connect(realUrl, info, config, () -> connectReal(driver, realUrl, info));
            if (pinned != null) return pinned;
        }
        Connection real = connectReal(driver, realUrl, info);
        RememberedAutoCommit.checkTheConnectingPool();
        return guard(real, config, Engine.FROM_A_DRIVER);
    }

    private static Connection connectReal(Driver driver, String realUrl, Properties info) throws SQLException {
        Connection real;
        OWN_CONNECT.set(Boolean.TRUE); // under the agent, the real driver's connect must not guard it first
        try {
            real = driver.connect(realUrl, withoutOwnKeys(info));
        } finally {
            OWN_CONNECT.remove();
        }
        if (real == null) {
            throw Errors.state("the driver " + driver.getClass().getName() + " declined the URL it said it accepts");
        }
        return real;
    }

    /** The real driver's properties, asked with the real URL. */
    public static DriverPropertyInfo[] propertyInfo(String url, Properties info) throws SQLException {
        String realUrl = Delegates.realUrl(url);
        return Delegates.driverFor(realUrl, url).getPropertyInfo(realUrl, withoutOwnKeys(info));
    }

    /**
     * Set while the jdbc:txguard: driver connects through the real one: the agent's advice on the real
     * driver then leaves the connection alone, so that it is guarded once, with the URL's own settings.
     */
    private static final ThreadLocal<Boolean> OWN_CONNECT = new ThreadLocal<>();

    /**
     * How many {@code XADataSource.getXAConnection} calls run on this thread (the agent counts them): the physical
     * connection a driver opens for an XAConnection stays the driver's own, as the driver's XA code needs it
     * (PostgreSQL's casts it to its own class), and the XAConnection's handles are guarded instead.
     */
    private static final ThreadLocal<int[]> OPENING_FOR_XA = ThreadLocal.withInitial(() -> new int[1]);

    public static void xaConnectionOpening() {
        OPENING_FOR_XA.get()[0]++;
    }

    public static void xaConnectionOpened() {
        OPENING_FOR_XA.get()[0]--;
    }

    private static boolean leftAlone(Connection returned) {
        return returned == null || OWN_CONNECT.get() != null || OPENING_FOR_XA.get()[0] > 0;
    }

    /** A connection from a DataSource txguard wraps (TxGuardDataSource): guarded, or pinned under a test transaction. */
    public static Connection connectThrough(javax.sql.DataSource source, String user, String password) throws SQLException {
        if (TestTransactions.open) {
            Connection pinned = TestTransactions.connectThrough(source, user, Config.forConnection(null),
                    () -> borrow(source, user, password));
            if (pinned != null) return pinned;
        }
        return wrap(borrow(source, user, password));
    }

    private static Connection borrow(javax.sql.DataSource source, String user, String password) throws SQLException {
        return user == null ? source.getConnection() : source.getConnection(user, password);
    }

    /** Guards a connection obtained elsewhere (a wrapped DataSource); one already guarded is returned as is. */
    public static Connection wrap(Connection real) throws SQLException {
        return wrap(real, Engine.FROM_A_DATA_SOURCE);
    }

    private static Connection wrap(Connection real, int origin) throws SQLException {
        if (real == null || OWN_CONNECT.get() != null) return real;
        Config config;
        try {
            config = Config.forConnection(null);
        } catch (SQLException e) {
            real.close();
            throw e;
        }
        return guard(real, config, origin);
    }

    // ---- for the agent

    /**
     * What a {@code Driver.connect}, a {@code DataSource.getConnection} or a {@code PooledConnection.getConnection}
     * (the {@code source}) returns, guarded once: as it is when it is already guarded (a pool's handle over a
     * guarded connection, a spy's, jdbc:txguard:'s) or guarded in place ({@link #guardInPlace}), and as it is
     * when a pool that decides from its own reading of transaction state (Druid, Agroal) opens it for itself,
     * since that pool's handles are guarded instead.
     */
    public static Connection guardReturned(Object source, Connection returned) throws SQLException {
        if (leftAlone(returned)) return returned;
        if (UnwrappedConnections.any) {
            TxConnection inPlace = UnwrappedConnections.guardInPlaceOf(returned);
            if (inPlace != null) {
                inPlace.goesOutInstead();
                Connection pinned = TestTransactions.open ? pinnedInstead(source, inPlace.delegate) : null;
                return pinned != null ? pinned : inPlace;
            }
        }
        if (returned.isWrapperFor(TxConnection.class) || leftToStatefulPool(source, returned)) return returned;
        Connection pinned = TestTransactions.open ? pinnedInstead(source, returned) : null;
        return pinned != null ? pinned : wrap(returned, origin(source));
    }

    /**
     * Under a test transaction, a connection a driver or a vendor's data source just opened: a handle on its
     * database's pinned connection instead (it becomes that connection, or is closed again); null outside one. A
     * pool's handles are left to the pool: its physical connections, opened through a driver, are pinned already.
     */
    private static Connection pinnedInstead(Object source, Connection real) throws SQLException {
        if (!(source instanceof Driver) && CallStack.isPool(source.getClass().getName())) return null;
        return TestTransactions.pinReturned(real, Config.forConnection(null), origin(source));
    }

    /**
     * For a {@code connect} or {@code getConnection()} declared to return a pool's or driver's own connection
     * class (Druid's DruidDataSource, MariaDB's driver and pooled connection): a guard cannot be returned as that
     * class, so one is put over the connection in place, and the connection's transaction methods go to it, as when
     * an application unwraps a guarded connection (see UnwrappedConnections). The interface's bridge then returns
     * that guard.
     */
    public static void guardInPlace(Object source, Connection returned) throws SQLException {
        if (leftAlone(returned)) return;
        if (UnwrappedConnections.any && UnwrappedConnections.guardInPlaceOf(returned) != null) return;
        if (returned.isWrapperFor(TxConnection.class) || leftToStatefulPool(source, returned)) return;
        ((TxConnection) wrap(returned, origin(source))).guardInPlace();
    }

    /** A physical connection of a pool that must be guarded above, not beneath (see CallStack.opensForStatefulPool). */
    private static boolean leftToStatefulPool(Object source, Connection returned) throws SQLException {
        if (!CallStack.opensForStatefulPool(source)) return false;
        // A pool's handle (Druid's) hands out the connection beneath it: one more driver object reached from its guard
        TxConnection above = source instanceof Connection && UnwrappedConnections.any
                ? UnwrappedConnections.guardOf((Connection) source) : null;
        if (above != null) above.handedOut(returned);
        return true;
    }

    /** The agent makes HikariCP's handles remember the autocommit the connection beneath them reports. */
    public static void hikariHandlesAskTheConnection() {
        RememberedAutoCommit.agentTakesCareOfIt();
    }

    /** The agent instrumented this class (see CallStack.opensForStatefulPool). */
    public static void instrumented(String className) {
        CallStack.instrumented(className);
    }

    /** Whether a class may declare durable methods, by the JVM-wide settings (false when they are invalid). */
    public static boolean mayDeclareDurableMethods(String className) {
        return MethodPattern.anyMatchesClass(validGlobal().durable, className);
    }

    public static boolean isDurableMethod(String className, String methodName) {
        return MethodPattern.anyMatches(validGlobal().durable, className, methodName);
    }

    public static boolean hasDurableMethods() {
        return validGlobal().durable.length > 0;
    }

    /** The JVM-wide settings' error message, or null when they are valid. Read once: later changes are not seen. */
    public static String configurationProblem() {
        try {
            Config.global();
            return null;
        } catch (SQLException e) {
            return e.getMessage();
        }
    }

    /** The agent instruments durable methods: from now on, open transactions are tracked per thread. */
    public static void checkDurableReturns() {
        Engine.trackOpenTransactions = true;
    }

    /** Called as a durable method returns (or throws). */
    public static void durableMethodReturned(boolean throwing) throws SQLException {
        Engine.durableMethodReturned(throwing);
    }

    /** The names of txguard's settings without their prefix ({@code mode}, {@code durable}, ...), for agent arguments. */
    public static java.util.Set<String> settingNames() {
        java.util.Set<String> names = new java.util.TreeSet<>();
        for (String key : Config.KEYS) names.add(key.substring(Config.PREFIX.length()));
        return java.util.Collections.unmodifiableSet(names);
    }

    /** Scope boundaries from activations: the agent, loaded at start-up, is to report method activations. */
    public static boolean wantsActivations() {
        return validGlobal().activations;
    }

    /** A method of the application's own code (txguard.application): every one reports its activations. */
    public static boolean isApplicationMethod(String className, String methodName) {
        return MethodPattern.anyMatches(validGlobal().application, className, methodName);
    }

    public static boolean isApplicationClass(String className) {
        return MethodPattern.anyMatchesClass(validGlobal().application, className);
    }

    /** Classes the agent leaves out of activations: they only pass calls along (JDK, txguard, pools, spies). */
    public static boolean isPassThroughClass(String className) {
        return CallStack.isPassThrough(className);
    }

    /** A connection pool's own code: what it calls is the pool configuring or resetting a connection. */
    public static boolean isPoolClass(String className) {
        return CallStack.isPool(className);
    }

    /** A method of a class listed in txguard.helpers: it calls on its caller's behalf and is no activation of its own. */
    public static boolean isHelperMethod(String className, String methodName) {
        return MethodPattern.anyMatches(validGlobal().helpers, className, methodName);
    }

    /**
     * For the agent's advice on the transaction methods of every connection class: the guarded connection
     * that a call on this one must go to instead, because the application unwrapped it to the driver's own
     * connection; null when the call goes on as written (nothing unwrapped, or the guard's engine calling).
     */
    public static Connection guardOfUnwrapped(Connection connection) {
        return UnwrappedConnections.any ? UnwrappedConnections.guardToCall(connection) : null;
    }

    /** TxGuard.onCommit: the callback goes to the engine of the physical connection behind any handle on it. */
    public static void onCommit(Connection connection, Runnable callback) throws SQLException {
        if (connection == null) throw new IllegalArgumentException("txguard onCommit: the connection is null");
        if (callback == null) throw new IllegalArgumentException("txguard onCommit: the callback is null");
        TxConnection guarded = guardedBehind(connection);
        if (guarded == null) {
            throw Errors.state("onCommit needs a connection txguard guards (from a jdbc:txguard: URL, a"
                    + " TxGuardDataSource, or any connection under the agent), or a pool's handle on one; this one is a "
                    + connection.getClass().getName() + ", and its commit would not be seen");
        }
        if (guarded.isClosed()) throw Errors.state("onCommit on a closed connection");
        guarded.engine.onCommit(callback);
    }

    private static TxConnection guardedBehind(Connection connection) throws SQLException {
        if (connection instanceof TxConnection) return (TxConnection) connection;
        if (connection.isWrapperFor(TxConnection.class)) return connection.unwrap(TxConnection.class);
        return UnwrappedConnections.guardOf(connection); // a driver's own connection the agent guards in place
    }

    /**
     * The JVM-wide settings for the agent's instrumentation decisions; the defaults when they are invalid,
     * which is reported at start-up and at every connection, with what is allowed.
     */
    private static Config validGlobal() {
        try {
            return Config.global();
        } catch (SQLException invalid) {
            return Config.DEFAULTS;
        }
    }

    private static int origin(Object source) {
        if (source instanceof Driver) return Engine.FROM_A_DRIVER;
        return source instanceof javax.sql.PooledConnection ? Engine.FROM_A_POOLED_CONNECTION : Engine.FROM_A_DATA_SOURCE;
    }

    private static Connection guard(Connection real, Config config, int origin) throws SQLException {
        if (real.isWrapperFor(TxConnection.class)) return real; // a pool over a txguard connection
        try {
            Dialect dialect = Dialect.forProduct(real.getMetaData().getDatabaseProductName());
            return new TxConnection(real, new Engine(real, config, dialect, origin));
        } catch (SQLException | RuntimeException e) {
            real.close();
            throw e;
        }
    }

    private static Properties withoutOwnKeys(Properties info) {
        if (info == null) return new Properties();
        boolean any = false;
        for (String name : info.stringPropertyNames()) {
            if (name.startsWith(Config.PREFIX)) {
                any = true;
                break;
            }
        }
        if (!any) return info;
        Properties copy = new Properties();
        for (String name : info.stringPropertyNames()) {
            if (!name.startsWith(Config.PREFIX)) copy.setProperty(name, info.getProperty(name));
        }
        return copy;
    }
}
