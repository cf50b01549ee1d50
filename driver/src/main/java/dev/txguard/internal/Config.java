package dev.txguard.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * txguard's settings. Sources, strongest first: connection properties named {@code txguard.*},
 * system properties {@code txguard.*}, environment variables {@code TXGUARD_*}, then a
 * {@code txguard.properties} file ({@code -Dtxguard.config=PATH}, else the class path).
 *
 * <p>Read once per JVM, at the first connection; an unknown key or a bad value fails that
 * connection, and every later one, with a message that lists what is allowed. No value is ever
 * used as a class name.
 */
final class Config {

    enum Mode { ENFORCE, OBSERVE }

    enum Durability { FAIL, WARN, OFF }

    static final String PREFIX = "txguard.";
    static final String MODE = "txguard.mode";
    static final String DURABILITY = "txguard.durability";
    static final String DURABLE = "txguard.durable";
    static final String HELPERS = "txguard.helpers";
    static final String CONFIG_FILE = "txguard.config";
    /** Under the agent: where scope boundaries come from (see Activations); JVM-wide. */
    static final String BOUNDARIES = "txguard.boundaries";
    /** Under the agent: the application's own classes, whose methods all report their activations; JVM-wide. */
    static final String APPLICATION = "txguard.application";
    static final Set<String> KEYS = Set.of(MODE, DURABILITY, DURABLE, HELPERS, CONFIG_FILE, BOUNDARIES, APPLICATION);

    final Mode mode;
    final Durability durability;
    final MethodPattern[] durable;
    final MethodPattern[] helpers;
    /** Scope boundaries from activations: the agent reports method activations and the engine uses them. */
    final boolean activations;
    /** The application's classes (txguard.application): under activations, the agent instruments their methods. */
    final MethodPattern[] application;

    private Config(Mode mode, Durability durability, MethodPattern[] durable, MethodPattern[] helpers,
                   boolean activations, MethodPattern[] application) {
        this.mode = mode;
        this.durability = durability;
        this.durable = durable;
        this.helpers = helpers;
        this.activations = activations;
        this.application = application;
    }

    /** Every setting at its default. */
    static final Config DEFAULTS;

    static {
        try {
            DEFAULTS = parse(Map.of());
        } catch (SQLException impossible) {
            throw new AssertionError("the defaults are valid", impossible);
        }
    }

    private static volatile Object global; // a Config, or the SQLException that loading it raised

    /** The JVM-wide settings, read at the first call. */
    static Config global() throws SQLException {
        Object g = global;
        if (g == null) {
            synchronized (Config.class) {
                g = global;
                if (g == null) {
                    try {
                        g = parse(collect(System.getProperties(), System.getenv()));
                    } catch (SQLException e) {
                        g = e;
                    }
                    global = g;
                }
            }
        }
        if (g instanceof SQLException) {
            SQLException first = (SQLException) g;
            throw new SQLException(first.getMessage(), first.getSQLState());
        }
        return (Config) g;
    }

    /** The global settings with a connection's own {@code txguard.*} properties on top. */
    static Config forConnection(Properties info) throws SQLException {
        Config base = global();
        if (info == null) return base;
        Map<String, String> own = new LinkedHashMap<>();
        for (String name : info.stringPropertyNames()) {
            if (name.startsWith(PREFIX)) own.put(name, info.getProperty(name));
        }
        if (own.isEmpty()) return base;
        checkKeys(own, "connection property");
        for (String jvmWide : new String[] {CONFIG_FILE, BOUNDARIES, APPLICATION}) {
            if (own.containsKey(jvmWide)) {
                throw Errors.config(jvmWide + " cannot be a connection property; set it as a system property");
            }
        }
        return new Config(
                own.containsKey(MODE) ? mode(own.get(MODE)) : base.mode,
                own.containsKey(DURABILITY) ? durability(own.get(DURABILITY)) : base.durability,
                own.containsKey(DURABLE) ? MethodPattern.parseList(DURABLE, own.get(DURABLE), true) : base.durable,
                own.containsKey(HELPERS) ? MethodPattern.parseList(HELPERS, own.get(HELPERS), false) : base.helpers,
                base.activations, base.application);
    }

    /** Merges the sources, strongest last so that it overwrites. */
    static Map<String, String> collect(Properties system, Map<String, String> env) throws SQLException {
        Map<String, String> fromSystem = new LinkedHashMap<>();
        for (String name : system.stringPropertyNames()) {
            if (name.startsWith(PREFIX)) fromSystem.put(name, system.getProperty(name));
        }
        checkKeys(fromSystem, "system property");
        Map<String, String> fromEnv = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : env.entrySet()) {
            if (e.getKey().startsWith("TXGUARD_")) {
                fromEnv.put(PREFIX + e.getKey().substring(8).toLowerCase(Locale.ROOT), e.getValue());
            }
        }
        checkKeys(fromEnv, "environment variable");

        String file = fromSystem.getOrDefault(CONFIG_FILE, fromEnv.get(CONFIG_FILE));
        Map<String, String> merged = new LinkedHashMap<>(readFile(file));
        merged.putAll(fromEnv);
        merged.putAll(fromSystem);
        return merged;
    }

    static Config parse(Map<String, String> values) throws SQLException {
        MethodPattern[] application = MethodPattern.parseList(APPLICATION, values.getOrDefault(APPLICATION, ""), false);
        return new Config(
                mode(values.getOrDefault(MODE, "enforce")),
                durability(values.getOrDefault(DURABILITY, "fail")),
                MethodPattern.parseList(DURABLE, values.getOrDefault(DURABLE, ""), true),
                MethodPattern.parseList(HELPERS, values.getOrDefault(HELPERS, ""), false),
                activations(values.get(BOUNDARIES), application.length > 0),
                application);
    }

    private static Map<String, String> readFile(String path) throws SQLException {
        Properties p = new Properties();
        String source;
        if (path != null) {
            source = path;
            try (InputStream in = Files.newInputStream(Path.of(path))) {
                p.load(in);
            } catch (IOException | RuntimeException e) {
                throw Errors.config(CONFIG_FILE + "=" + path + " cannot be read (" + e.getClass().getSimpleName()
                        + ": " + e.getMessage() + "); point it at a readable properties file or remove it");
            }
        } else {
            source = "txguard.properties on the class path";
            ClassLoader loader = Thread.currentThread().getContextClassLoader();
            if (loader == null) loader = Config.class.getClassLoader();
            try (InputStream in = loader == null ? null : loader.getResourceAsStream("txguard.properties")) {
                if (in == null) return Map.of();
                p.load(in);
            } catch (IOException | RuntimeException e) {
                throw Errors.config(source + " cannot be read: " + e.getMessage());
            }
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (String name : p.stringPropertyNames()) {
            String key = name.startsWith(PREFIX) ? name : PREFIX + name;
            values.put(key, p.getProperty(name));
        }
        checkKeys(values, "key in " + source);
        if (values.containsKey(CONFIG_FILE)) {
            throw Errors.config(CONFIG_FILE + " inside " + source + " is not allowed; set it as a system property");
        }
        return values;
    }

    private static void checkKeys(Map<String, String> values, String where) throws SQLException {
        for (String key : values.keySet()) {
            if (!KEYS.contains(key)) {
                throw Errors.config("unknown " + where + " '" + key + "'; known keys: "
                        + String.join(", ", new java.util.TreeSet<>(KEYS)));
            }
        }
    }

    private static Mode mode(String value) throws SQLException {
        String v = value.trim().toLowerCase(Locale.ROOT);
        if (v.equals("enforce")) return Mode.ENFORCE;
        if (v.equals("observe")) return Mode.OBSERVE;
        throw Errors.config(MODE + "='" + value + "' is not a mode; allowed: enforce (default), observe");
    }

    private static Durability durability(String value) throws SQLException {
        switch (value.trim().toLowerCase(Locale.ROOT)) {
            case "fail": return Durability.FAIL;
            case "warn": return Durability.WARN;
            case "off": return Durability.OFF;
            default:
                throw Errors.config(DURABILITY + "='" + value + "' is not a durability; allowed: fail (default), warn, off");
        }
    }

    /**
     * Activations only know the methods they are told about: those that call JDBC, and every method of the
     * application's classes. Without the latter, a service or a {@code Tx.begin(c)} helper that makes no JDBC
     * call of its own would be invisible and scopes would pass past it, so activations need them.
     */
    private static boolean activations(String boundaries, boolean applicationNamed) throws SQLException {
        String v = boundaries == null ? "" : boundaries.trim().toLowerCase(Locale.ROOT);
        switch (v) {
            case "": return applicationNamed;
            case "stack": return false;
            case "activations":
                if (!applicationNamed) {
                    throw Errors.config(BOUNDARIES + "=activations needs " + APPLICATION + ", the application's classes"
                            + " (com.acme.*): activations come from their methods, and a service or helper that makes no"
                            + " JDBC call of its own would otherwise be invisible");
                }
                return true;
            default:
                throw Errors.config(BOUNDARIES + "='" + boundaries + "' is not a source of scope boundaries; allowed: stack"
                        + " (the default without " + APPLICATION + "), activations (the default with it; only with the"
                        + " agent loaded at start-up)");
        }
    }

    boolean observe() {
        return mode == Mode.OBSERVE;
    }

    boolean checksDurability() {
        return durability != Durability.OFF && durable.length > 0;
    }
}
