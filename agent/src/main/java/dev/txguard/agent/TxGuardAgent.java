package dev.txguard.agent;

import static net.bytebuddy.matcher.ElementMatchers.declaresField;
import static net.bytebuddy.matcher.ElementMatchers.hasSuperType;
import static net.bytebuddy.matcher.ElementMatchers.isAbstract;
import static net.bytebuddy.matcher.ElementMatchers.isBridge;
import static net.bytebuddy.matcher.ElementMatchers.isInterface;
import static net.bytebuddy.matcher.ElementMatchers.isMethod;
import static net.bytebuddy.matcher.ElementMatchers.isNative;
import static net.bytebuddy.matcher.ElementMatchers.isStatic;
import static net.bytebuddy.matcher.ElementMatchers.named;
import static net.bytebuddy.matcher.ElementMatchers.not;
import static net.bytebuddy.matcher.ElementMatchers.returns;
import static net.bytebuddy.matcher.ElementMatchers.takesArguments;

import dev.txguard.internal.Activations;
import dev.txguard.internal.Guard;
import java.io.File;
import java.lang.System.Logger.Level;
import java.lang.instrument.ClassFileTransformer;
import java.lang.instrument.Instrumentation;
import java.security.ProtectionDomain;
import java.sql.Connection;
import java.util.Properties;
import net.bytebuddy.ByteBuddy;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.asm.Advice;
import net.bytebuddy.dynamic.ClassFileLocator;
import net.bytebuddy.dynamic.DynamicType;
import net.bytebuddy.dynamic.Nexus;
import net.bytebuddy.dynamic.scaffold.MethodGraph;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatcher;
import net.bytebuddy.utility.JavaModule;

/**
 * The txguard agent: {@code -javaagent:txguard-agent.jar[=mode=observe,...]} guards every connection
 * an unmodified application obtains, with the driver's engine and semantics. Also
 * {@code java -jar txguard-agent.jar attach <pid> [arguments]} for a JVM that is already running.
 * Design notes: docs/agent.md.
 */
public final class TxGuardAgent {

    private static final System.Logger LOG = System.getLogger("dev.txguard.agent");
    private static volatile boolean installed;

    private TxGuardAgent() {}

    public static void premain(String arguments, Instrumentation instrumentation) {
        install(arguments, instrumentation, true);
    }

    public static void agentmain(String arguments, Instrumentation instrumentation) {
        install(arguments, instrumentation, false);
    }

    /**
     * @param atStartup loaded before the application: every activation can be reported, so the engine
     *     learns scope boundaries from them. Attached later, methods already running were entered
     *     uninstrumented, and the engine keeps walking the stack.
     */
    static synchronized void install(String arguments, Instrumentation instrumentation, boolean atStartup) {
        AgentArguments.apply(AgentArguments.parse(arguments), System.getProperties());
        if (installed) {
            LOG.log(Level.WARNING, "txguard agent: already installed in this JVM; nothing more to do");
            return;
        }
        // AgentBuilder.Default prepares Byte Buddy's Nexus (type initializers, injected with sun.misc.Unsafe) though
        // a builder that disables class format changes never uses it; on JDK 24 and later that first use of Unsafe
        // prints four warning lines at every start. (The property is relocated with Byte Buddy: it is txguard's own.)
        if (System.getProperty(Nexus.PROPERTY) == null) System.setProperty(Nexus.PROPERTY, "true");
        Guard.hikariHandlesAskTheConnection();
        String problem = Guard.configurationProblem();
        if (problem != null) {
            // Every connection will fail with this message; say it now too, where the JVM starts.
            System.err.println("txguard agent: " + problem);
            LOG.log(Level.ERROR, "txguard agent: " + problem);
        }
        if (Guard.wantsActivations() && !atStartup) {
            LOG.log(Level.WARNING, "txguard agent: scope boundaries from activations (txguard.application) need the"
                    + " agent at start-up (-javaagent); attached to a running JVM, they come from stack walks");
        }
        boolean activations = atStartup && Guard.wantsActivations();
        if (activations) Activations.enable();
        if (Guard.hasDurableMethods()) Guard.checkDurableReturns();
        Triage triage = new Triage(activations, Guard.hasDurableMethods(), transformers(activations));
        // Initialized before Triage looks at any class: the scan of the loaded classes is no transformer, and what
        // SuperTypes's initialization loads (java.sql's interfaces) would come to Triage, which needs SuperTypes.
        SuperTypes.ofLoaded(Object.class);
        instrumentation.addTransformer(triage, true);
        triage.retransformLoaded(instrumentation);
        installed = true;
        LOG.log(Level.INFO, "txguard agent installed: every JDBC connection is guarded");
    }

    /**
     * Byte Buddy's transformers, which Triage hands the classes that may need them. Their matchers decide; Triage only
     * spares them the thousands of classes that cannot match.
     */
    private static Triage.Transformers transformers(boolean activations) {
        // First, so that the loaders of the classes instrumented below can resolve what their advice calls.
        ClassFileTransformer classLoaders = new AgentBuilder.Default(BYTE_BUDDY)
                .disableClassFormatChanges()
                .with(JDK_TYPES_FROM_ANY_LOADER)
                .with(new QuietListener())
                .ignore((type, loader, module, redefined, domain) -> Triage.isLoaderLeftAlone(internalName(type)))
                .type(SuperTypes.concrete(SuperTypes.CLASS_LOADER))
                .transform(new AgentBuilder.Transformer.ForAdvice()
                        .include(TxGuardAgent.class.getClassLoader())
                        .advice(named("loadClass").and(takesArguments(String.class).or(takesArguments(String.class, boolean.class)))
                                        .and(not(isAbstract())).and(not(isNative())),
                                LoadClassAdvice.class.getName()))
                .makeRaw();
        // Byte Buddy leaves synthetic methods alone by default; lambda bodies are the application's methods too.
        AgentBuilder builder = new AgentBuilder.Default(BYTE_BUDDY.ignore(isBridge()))
                .disableClassFormatChanges()
                .with(JDK_TYPES_FROM_ANY_LOADER)
                .with(new GuardingListener())
                .ignore((type, loader, module, redefined, domain) -> Triage.isNeverGuarded(internalName(type), loader))
                .type(SeesTxguard.only(SuperTypes.concrete(SuperTypes.DRIVER)))
                .transform(advice(DRIVER_CONNECT))
                .transform(inPlace(DRIVER_CONNECT))
                .transform(GUARD_BRIDGES)
                .type(SeesTxguard.only(SuperTypes.concrete(SuperTypes.DATA_SOURCE)))
                .transform(advice(named("getConnection").and(takesArguments(0).or(takesArguments(String.class, String.class)))))
                .transform(inPlace(named("getConnection").and(takesArguments(0))))
                .transform(GUARD_BRIDGES)
                .type(SeesTxguard.only(SuperTypes.concrete(SuperTypes.XA_DATA_SOURCE)))
                .transform(new AgentBuilder.Transformer.ForAdvice()
                        .include(TxGuardAgent.class.getClassLoader())
                        .advice(named("getXAConnection").and(takesArguments(0).or(takesArguments(String.class, String.class)))
                                        .and(not(isAbstract())),
                                XaConnectionAdvice.class.getName()))
                .type(SeesTxguard.only(SuperTypes.concrete(SuperTypes.POOLED_CONNECTION)))
                .transform(advice(named("getConnection").and(takesArguments(0))))
                .transform(inPlace(named("getConnection").and(takesArguments(0))))
                .transform(GUARD_BRIDGES)
                .type(SeesTxguard.only(SuperTypes.concrete(SuperTypes.CONNECTION)))
                .transform(unwrappedCalls())
                .type(named(HIKARI_PROXY_CONNECTION)
                        .and(declaresField(named("delegate"))).and(declaresField(named("isAutoCommit"))))
                .transform(new AgentBuilder.Transformer.ForAdvice()
                        .include(TxGuardAgent.class.getClassLoader())
                        .advice(named("setAutoCommit").and(takesArguments(boolean.class)).and(not(isAbstract())),
                                HikariAutoCommitAdvice.class.getName()));
        if (activations) {
            builder = builder
                    .type(SeesTxguard.only(new CallSites(false)))
                    .transform(new CallSiteAdvice(ACTIVATION, false))
                    .type(SeesTxguard.only(new CallSites(true)))
                    .transform(new CallSiteAdvice(POOL_METHOD, true))
                    .type(SeesTxguard.only(SuperTypes.concrete(SuperTypes.CONNECTION)))
                    .transform(new AgentBuilder.Transformer.ForAdvice()
                            .include(TxGuardAgent.class.getClassLoader())
                            .advice(named("close").and(takesArguments(0)).and(not(isAbstract())),
                                    ConnectionCloseAdvice.class.getName()));
        }
        if (Guard.hasDurableMethods()) {
            builder = builder
                    .type(SeesTxguard.only(type -> Guard.mayDeclareDurableMethods(type.getName()) && !type.isInterface()))
                    .transform(new AgentBuilder.Transformer.ForAdvice()
                            .include(TxGuardAgent.class.getClassLoader())
                            .advice(isMethod().and(not(isAbstract())).and(method -> Guard.isDurableMethod(
                                    method.getDeclaringType().asErasure().getName(), method.getName())),
                                    DurableReturnAdvice.class.getName()));
        }
        return new Triage.Transformers(classLoaders, builder.makeRaw());
    }

    /**
     * Advice goes into the methods a class declares, and the agent adds none: Byte Buddy need not work out every
     * method the class inherits, reading and parsing each super type's class file, as it does by default.
     */
    private static final ByteBuddy BYTE_BUDDY = new ByteBuddy().with(MethodGraph.Compiler.ForDeclaredMethods.INSTANCE);

    /**
     * Byte Buddy reads the class files of an instrumented class's super types through that class's loader, and so does
     * SuperTypes for every class it reads. A module system's loader may load the JDK's classes without serving their
     * class files (java.sql's, from the platform loader), and the JDBC interfaces must resolve wherever a driver lives.
     */
    private static final AgentBuilder.LocationStrategy JDK_TYPES_FROM_ANY_LOADER =
            AgentBuilder.LocationStrategy.ForClassLoader.STRONG.withFallbackTo(ClassFileLocator.ForClassLoader.ofPlatformLoader());

    /** Where a type's class file is found, seen from a loader (see JDK_TYPES_FROM_ANY_LOADER). */
    static ClassFileLocator classFiles(ClassLoader loader) {
        return JDK_TYPES_FROM_ANY_LOADER.classFileLocator(loader, null);
    }

    /** The class of HikariCP's handles that remembers autocommit (see HikariAutoCommitAdvice). */
    private static final String HIKARI_PROXY_CONNECTION = "com.zaxxer.hikari.pool.ProxyConnection";

    private static final ElementMatcher.Junction<net.bytebuddy.description.method.MethodDescription> DRIVER_CONNECT =
            named("connect").and(takesArguments(String.class, Properties.class));
    private static final AgentBuilder.Transformer GUARD_BRIDGES =
            (typeBuilder, type, loader, module, protectionDomain) -> typeBuilder.visit(new GuardBridgedConnection());

    private static final Advice ACTIVATION = Advice.to(ActivationAdvice.class);
    private static final Advice POOL_METHOD = Advice.to(PoolMethodAdvice.class);

    /**
     * Classes with methods to instrument, found in their bytecode: those that call JDBC, and the application's
     * (for activations) that call something that may run application code. Others are not rewritten at all.
     * With {@code poolCode}, a pool's own code (not its connection proxies); without, any other class but the
     * pass-through ones, InvocationHandlers, and a driver's connection classes (their methods pass calls along, and
     * route unwrapped ones to the guard).
     */
    static final class CallSites implements AgentBuilder.RawMatcher {
        private final boolean poolCode;

        CallSites(boolean poolCode) {
            this.poolCode = poolCode;
        }

        /**
         * Whether either kind of call sites may be instrumented in the class: Triage's question, asked of a concrete
         * class. Its bytecode first: most classes call no JDBC, and the super types need not be read for them.
         */
        static boolean mayMatch(String name, ClassLoader loader) {
            boolean application = Guard.isApplicationClass(name);
            JdbcCallSites sites = JdbcCallSites.of(loader, name, application);
            if (sites.callingJdbc.isEmpty() && !(application && !sites.mayRunApplicationCode.isEmpty())) return false;
            int kinds = SuperTypes.of(name, loader);
            return matches(name, loader, kinds, false) || matches(name, loader, kinds, true);
        }

        private static boolean isOfItsKind(String name, int kinds, boolean poolCode) {
            if (SuperTypes.isInterface(kinds)) return false;
            if (poolCode) return Guard.isPoolClass(name) && (kinds & SuperTypes.CONNECTION) == 0;
            if (Guard.isPassThroughClass(name)) return false;
            return (kinds & SuperTypes.INVOCATION_HANDLER) == 0
                    && ((kinds & SuperTypes.CONNECTION) == 0 || Guard.isApplicationClass(name));
        }

        private static boolean matches(String name, ClassLoader loader, int kinds, boolean poolCode) {
            if (loader == null || !isOfItsKind(name, kinds, poolCode)) return false;
            boolean application = !poolCode && Guard.isApplicationClass(name);
            JdbcCallSites sites = JdbcCallSites.of(loader, name, application);
            return !sites.callingJdbc.isEmpty() || application && !sites.mayRunApplicationCode.isEmpty();
        }

        @Override
        public boolean matches(TypeDescription type, ClassLoader loader, JavaModule module, Class<?> classBeingRedefined,
                               ProtectionDomain protectionDomain) {
            return loader != null && matches(type.getName(), loader, SuperTypes.of(type.getName(), loader), poolCode);
        }
    }

    /** Advice on the methods of a class that call JDBC, found in its bytecode as the class loads. */
    private static final class CallSiteAdvice implements AgentBuilder.Transformer {
        private final Advice advice;
        private final boolean poolCode;

        CallSiteAdvice(Advice advice, boolean poolCode) {
            this.advice = advice;
            this.poolCode = poolCode;
        }

        @Override
        public DynamicType.Builder<?> transform(DynamicType.Builder<?> builder, TypeDescription type, ClassLoader loader,
                                                JavaModule module, ProtectionDomain protectionDomain) {
            String typeName = type.getName(); // CallSites matched it: a loader, and a class file read
            boolean application = !poolCode && Guard.isApplicationClass(typeName);
            JdbcCallSites sites = JdbcCallSites.of(loader, typeName, application);
            return builder.visit(advice.on(isMethod().and(not(isAbstract())).and(not(isNative()))
                    .and(method -> {
                        String key = method.getInternalName() + method.getDescriptor();
                        return sites.callingJdbc.contains(key) || application && sites.mayRunApplicationCode.contains(key)
                                && Guard.isApplicationMethod(typeName, method.getName());
                    })
                    // durable methods report their activations through their own advice; helpers have none
                    .and(method -> poolCode || !Guard.isDurableMethod(typeName, method.getName())
                            && !Guard.isHelperMethod(typeName, method.getName()))));
        }
    }

    /** The transaction methods of every connection class: see UnwrappedCallAdvice. */
    private static AgentBuilder.Transformer unwrappedCalls() {
        String advice = UnwrappedCallAdvice.class.getName();
        return new AgentBuilder.Transformer.ForAdvice()
                .include(TxGuardAgent.class.getClassLoader())
                .advice(concreteMethod("setAutoCommit", boolean.class), advice + "$SetAutoCommit")
                .advice(concreteMethod("getAutoCommit"), advice + "$GetAutoCommit")
                .advice(concreteMethod("commit"), advice + "$Commit")
                .advice(concreteMethod("rollback"), advice + "$Rollback")
                .advice(concreteMethod("rollback", java.sql.Savepoint.class), advice + "$RollbackToSavepoint")
                // the advice hands back java.sql.Savepoint: a covariant override is reached through its bridge
                .advice(concreteMethod("setSavepoint").and(returns(named("java.sql.Savepoint"))), advice + "$SetSavepoint")
                .advice(concreteMethod("setSavepoint", String.class).and(returns(named("java.sql.Savepoint"))),
                        advice + "$SetNamedSavepoint")
                .advice(concreteMethod("releaseSavepoint", java.sql.Savepoint.class), advice + "$ReleaseSavepoint")
                .advice(concreteMethod("close"), advice + "$Close");
    }

    private static ElementMatcher.Junction<net.bytebuddy.description.method.MethodDescription> concreteMethod(
            String name, Class<?>... parameters) {
        return named(name).and(takesArguments(parameters)).and(not(isAbstract())).and(not(isNative()));
    }

    private static AgentBuilder.Transformer advice(
            ElementMatcher.Junction<net.bytebuddy.description.method.MethodDescription> method) {
        return new AgentBuilder.Transformer.ForAdvice()
                .include(TxGuardAgent.class.getClassLoader())
                .advice(method.and(returns(named(Connection.class.getName()))).and(not(isAbstract())),
                        GuardConnectionAdvice.class.getName());
    }

    /**
     * A method that hands out connections, declared to return a connection class of its own (MariaDB's
     * {@code Driver.connect}, Druid's {@code getConnection()}): guarded in place.
     */
    private static AgentBuilder.Transformer inPlace(
            ElementMatcher.Junction<net.bytebuddy.description.method.MethodDescription> method) {
        return new AgentBuilder.Transformer.ForAdvice()
                .include(TxGuardAgent.class.getClassLoader())
                .advice(method.and(not(isAbstract())).and(not(isStatic()))
                                .and(returns(hasSuperType(named(Connection.class.getName()))
                                        .and(not(named(Connection.class.getName()))))),
                        GuardConnectionAdvice.InPlace.class.getName());
    }

    private static String internalName(TypeDescription type) {
        return type.getName().replace('.', '/');
    }

    /**
     * A class the agent could not inspect or instrument for its class loaders: it matters only if it is a class loader
     * that loads JDBC code and cannot see txguard's classes, and that is said where it matters, by SeesTxguard, at the
     * first JDBC class of that loader. So here it is said at DEBUG only.
     */
    private static final class QuietListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
            LOG.log(Level.DEBUG, () -> "txguard agent: could not inspect " + typeName + " as a possible class loader ("
                    + error + "); if it is one, the classes it loads see txguard's only as its parents do");
        }
    }

    /**
     * A JDBC class the agent could not instrument is left as it was, and that must be seen: one WARNING line naming it
     * and what is not guarded, with the failure in a few words (its stack trace at DEBUG only, for whoever reports it).
     * Also tells the guard which classes it instruments: a pool that must be guarded above, not beneath
     * (Guard.instrumented).
     */
    private static final class GuardingListener extends AgentBuilder.Listener.Adapter {
        @Override
        public void onError(String typeName, ClassLoader loader, JavaModule module, boolean loaded, Throwable error) {
            LOG.log(Level.WARNING, () -> "txguard agent: could not instrument " + typeName + " (" + error + "); if it"
                    + " opens, hands out or calls JDBC connections, what it does with them is NOT guarded");
            LOG.log(Level.DEBUG, () -> "txguard agent: why " + typeName + " could not be instrumented", error);
        }

        @Override
        public void onTransformation(TypeDescription type, ClassLoader loader, JavaModule module, boolean loaded,
                                     net.bytebuddy.dynamic.DynamicType dynamicType) {
            Guard.instrumented(type.getName());
            LOG.log(Level.DEBUG, () -> "txguard agent: guarding connections from " + type.getName());
        }
    }

    /** {@code java -jar txguard-agent.jar attach <pid> [arguments]}: load the agent into a running JVM. */
    public static void main(String[] args) throws Exception {
        if (args.length < 2 || !args[0].equals("attach")) {
            System.err.println("usage: java -jar txguard-agent.jar attach <pid> [mode=observe,durability=warn,...]");
            System.exit(2);
        }
        String arguments = args.length > 2 ? args[2] : "";
        AgentArguments.parse(arguments); // a typo fails here, not inside the target JVM
        File jar = new File(TxGuardAgent.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        com.sun.tools.attach.VirtualMachine vm = com.sun.tools.attach.VirtualMachine.attach(args[1]);
        try {
            vm.loadAgent(jar.getAbsolutePath(), arguments);
        } finally {
            vm.detach();
        }
        System.out.println("txguard agent attached to " + args[1] + ": connections it opens from now on are guarded");
    }
}
