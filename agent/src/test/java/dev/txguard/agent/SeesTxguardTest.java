package dev.txguard.agent;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.txguard.internal.Guard;
import dev.txguard.it.LogCapture;
import java.net.URL;
import java.net.URLClassLoader;
import net.bytebuddy.agent.builder.AgentBuilder;
import net.bytebuddy.description.type.TypeDescription;
import net.bytebuddy.matcher.ElementMatchers;
import org.junit.jupiter.api.Test;

/**
 * The agent's last line of defence, for a loader that LoadClassAdvice could not instrument: its classes are
 * left alone, and that is said once, rather than each instrumented method failing with NoClassDefFoundError
 * or a copy of txguard running a second engine. (Run without the agent: no loader here is instrumented.)
 */
class SeesTxguardTest {

    private static final TypeDescription A_DRIVER = TypeDescription.ForLoadedType.of(org.h2.Driver.class);
    private final AgentBuilder.RawMatcher anyType = SeesTxguard.only(ElementMatchers.any());

    @Test
    void aLoaderThatResolvesTxguardToTheAgentsClasses_isInstrumented() {
        ClassLoader application = getClass().getClassLoader();
        assertNull(SeesTxguard.problem(application));
        assertTrue(anyType.matches(A_DRIVER, application, null, null, null));
    }

    @Test
    void aLoaderThatCannotSeeTxguard_isLeftAloneAndSaidSoOnce() throws Exception {
        try (URLClassLoader plugin = new URLClassLoader(new URL[0], ClassLoader.getPlatformClassLoader());
             LogCapture reports = LogCapture.start()) {
            assertEquals("cannot load txguard's classes", SeesTxguard.problem(plugin));
            assertFalse(anyType.matches(A_DRIVER, plugin, null, null, null));
            assertFalse(anyType.matches(A_DRIVER, plugin, null, null, null));
            assertEquals(1, reports.messages.size(), reports.messages.toString());
            String report = reports.messages.get(0);
            assertTrue(report.contains(plugin.toString()) && report.contains("org.h2.Driver")
                    && report.contains("NOT guarded") && report.contains("dev.txguard"), report);
        }
    }

    @Test
    void aLoaderWithACopyOfTxguardOfItsOwn_isLeftAloneAndSaysWhereTheCopyIs() throws Exception {
        URL copy = Guard.class.getProtectionDomain().getCodeSource().getLocation();
        try (URLClassLoader webApplication = new URLClassLoader(new URL[] {copy}, ClassLoader.getPlatformClassLoader());
             LogCapture reports = LogCapture.start()) {
            assertEquals("has a copy of txguard of its own (from " + copy + ")", SeesTxguard.problem(webApplication));
            assertFalse(anyType.matches(A_DRIVER, webApplication, null, null, null));
            assertEquals(1, reports.messages.size(), reports.messages.toString());
        }
    }
}
