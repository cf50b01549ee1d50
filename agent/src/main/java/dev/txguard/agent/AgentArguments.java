package dev.txguard.agent;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * {@code -javaagent:txguard-agent.jar=mode=observe,durability=warn,durable=com.acme.A#b,com.acme.C#d}:
 * the driver's configuration keys without their {@code txguard.} prefix, separated by commas. An item
 * without '=' continues the value before it, so a list of patterns needs no quoting. They become
 * system properties, unless the same key is already set with -D (the command line's own word wins).
 */
final class AgentArguments {

    /** The driver's settings, without the txguard. prefix: one list of keys for both. */
    static final Set<String> KEYS = dev.txguard.internal.Guard.settingNames();

    private AgentArguments() {}

    static Map<String, String> parse(String arguments) {
        Map<String, String> values = new LinkedHashMap<>();
        if (arguments == null || arguments.isBlank()) return values;
        String key = null;
        for (String item : arguments.split(",")) {
            String part = item.trim();
            if (part.isEmpty()) continue;
            int eq = part.indexOf('=');
            if (eq < 0) {
                if (key == null) {
                    throw new IllegalArgumentException("txguard agent: argument '" + part + "' is not key=value;"
                            + " allowed: " + String.join(", ", new java.util.TreeSet<>(KEYS)) + " (as in mode=observe)");
                }
                values.put(key, values.get(key) + "," + part);
                continue;
            }
            key = part.substring(0, eq).trim().toLowerCase(Locale.ROOT);
            if (key.startsWith("txguard.")) key = key.substring("txguard.".length());
            if (!KEYS.contains(key)) {
                throw new IllegalArgumentException("txguard agent: unknown argument '" + key + "'; allowed: "
                        + String.join(", ", new java.util.TreeSet<>(KEYS)));
            }
            values.put(key, part.substring(eq + 1).trim());
        }
        return values;
    }

    /** Puts the arguments where the driver's configuration reads them; values are checked there. */
    static void apply(Map<String, String> values, Properties system) {
        for (Map.Entry<String, String> e : values.entrySet()) {
            system.putIfAbsent("txguard." + e.getKey(), e.getValue());
        }
    }
}
