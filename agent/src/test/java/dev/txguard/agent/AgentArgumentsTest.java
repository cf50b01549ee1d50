package dev.txguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class AgentArgumentsTest {

    @Test
    void keysValuesAndPatternListsWithoutQuoting() {
        Map<String, String> args = AgentArguments.parse(
                "mode=observe, durable=com.acme.A#b,com.acme.ledger.*#*,durability=warn");
        assertEquals(Map.of("mode", "observe", "durable", "com.acme.A#b,com.acme.ledger.*#*", "durability", "warn"), args);
        assertEquals(Map.of(), AgentArguments.parse(null));
        assertEquals(Map.of("mode", "observe"), AgentArguments.parse("txguard.mode=observe"));
    }

    @Test
    void theCommandLinesOwnSystemPropertyWins() {
        Properties system = new Properties();
        system.setProperty("txguard.mode", "enforce");
        AgentArguments.apply(AgentArguments.parse("mode=observe,durability=warn"), system);
        assertEquals("enforce", system.getProperty("txguard.mode"));
        assertEquals("warn", system.getProperty("txguard.durability"));
    }

    @Test
    void badArgumentsNameWhatIsAllowed() {
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> AgentArguments.parse("mood=observe"));
        assertTrue(unknown.getMessage().contains("unknown argument 'mood'; allowed: application, boundaries, config, durability, durable, helpers, mode"),
                unknown.getMessage());
        IllegalArgumentException bare = assertThrows(IllegalArgumentException.class, () -> AgentArguments.parse("observe"));
        assertTrue(bare.getMessage().contains("'observe' is not key=value"), bare.getMessage());
    }
}
