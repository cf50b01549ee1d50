package dev.txguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.txguard.it.ClassReferences;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The agent's own code opens no socket and writes no file. The one exception is the attach command,
 * which a user runs on purpose: the JDK's attach API talks to the target JVM over a local socket.
 * (The relocated Byte Buddy is not checked here: its file-writing features, class dumps and bootstrap
 * injection through a temporary jar, are ones the agent does not use; see docs/agent.md.)
 */
class AgentNoSideEffectsTest {

    @Test
    void theAgentsClassesReferNothingThatOpensASocketOrWritesAFile_butTheAttachCommand() throws Exception {
        List<String> found = ClassReferences.sideEffectsUnder(ClassReferences.classesOf(TxGuardAgent.class)).stream()
                .filter(f -> !f.startsWith("dev/txguard/agent/TxGuardAgent -> com/sun/tools/attach/"))
                .collect(Collectors.toList());
        assertEquals(List.of(), found, "agent code that could open a socket, write a file or start a process");
    }
}
