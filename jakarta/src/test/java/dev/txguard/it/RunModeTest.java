package dev.txguard.it;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txguard.internal.EngineProbe;
import org.junit.jupiter.api.Test;

/**
 * Each run of this module's tests is the run it claims to be: with the driver alone, or under the agent
 * with scope owners from activations or from stack walks. Without this, a run whose agent failed to
 * load or ignored its arguments would pass as well as the one it stands for.
 */
class RunModeTest {

    @Test
    void theRunIsInTheModeItsBuildExecutionNames() throws Exception {
        String expected = System.getProperty("txguard.tests.scopeOwners", "driver");
        String actual = !EngineProbe.agentGuardsConnections() ? "driver"
                : EngineProbe.activationsReported() ? "activations" : "stack walks";
        assertEquals(expected, actual);
    }
}
