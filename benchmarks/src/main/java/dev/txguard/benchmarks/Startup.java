package dev.txguard.benchmarks;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What the agent adds to an application's start-up: a Spring Boot 4 application ({@code benchmarks/startup-app}, web,
 * JPA with Hibernate, HikariCP, Actuator, H2) started from process start to its first stored row, raw, under the
 * agent, and under the agent with {@code application=}, in JVMs of their own. The variants take turns, round after
 * round, each round in another order; a difference is taken within a round against that round's raw start, and the
 * medians over the rounds are reported. Measured: the JVM's uptime when the application is ready, and the CPU time
 * its threads used until then (every thread: the JIT's and the collector's too).
 *
 * <pre>
 * mvn -B -q -f benchmarks/startup-app/pom.xml package                          # JDK 17 or later
 * java -cp benchmarks/target/benchmarks.jar dev.txguard.benchmarks.Startup 9    # rounds
 * java -cp benchmarks/target/benchmarks.jar dev.txguard.benchmarks.Startup 9 /tmp/other-agent.jar
 * </pre>
 * Agent jars named after the rounds (another build of the agent, to compare with) run as variants of their own,
 * without {@code application=}, in the same rounds.
 */
public final class Startup {

    private static final Pattern READY = Pattern.compile("ready-ms (\\d+) cpu-ms (\\d+)");

    private Startup() {}

    public static void main(String[] args) throws Exception {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 9;
        Path here = Path.of(Startup.class.getProtectionDomain().getCodeSource().getLocation().toURI()).getParent();
        Path app = here.resolveSibling("startup-app").resolve("target");
        Path classpathFile = app.resolve("classpath.txt");
        if (!Files.isRegularFile(classpathFile)) {
            System.err.println("the application is not built: run mvn -B -q -f benchmarks/startup-app/pom.xml package");
            System.exit(2);
        }
        String classpath = app.resolve("classes") + File.pathSeparator
                + Files.readString(classpathFile, StandardCharsets.UTF_8).trim();
        String agent = here.resolve("txguard-agent.jar").toString();
        Map<String, String> agents = new LinkedHashMap<>();
        agents.put("raw", null);
        agents.put("agent", "-javaagent:" + agent);
        agents.put("agent-activations", "-javaagent:" + agent + "=application=dev.txguard.startupapp.*");
        for (int i = 1; i < args.length; i++) {
            if (!Files.isRegularFile(Path.of(args[i]))) {
                System.err.println("no agent jar at " + args[i] + ": the arguments are the rounds, then agent jars");
                System.exit(2);
            }
            agents.put("agent " + Path.of(args[i]).getFileName(), "-javaagent:" + args[i]);
        }
        List<String> variants = new ArrayList<>(agents.keySet());

        Map<String, List<Long>> readyMs = new LinkedHashMap<>();
        Map<String, List<Long>> cpuMs = new LinkedHashMap<>();
        for (String variant : variants) {
            readyMs.put(variant, new ArrayList<>());
            cpuMs.put(variant, new ArrayList<>());
        }
        List<String> order = new ArrayList<>(variants);
        for (int round = 0; round < rounds; round++) {
            Collections.rotate(order, 1);
            for (String variant : order) {
                long[] measured = start(variant, agents.get(variant), classpath);
                readyMs.get(variant).add(measured[0]);
                cpuMs.get(variant).add(measured[1]);
            }
        }

        System.out.println("Start-up of a Spring Boot 4 application (benchmarks/startup-app), " + rounds + " rounds; "
                + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version") + ". Medians; a difference is taken within a round.");
        System.out.println();
        System.out.println("| variant | ready (ms) | + ready (ms) | CPU (ms) | + CPU (ms) |");
        System.out.println("|---|---|---|---|---|");
        for (String variant : variants) {
            System.out.printf(Locale.ROOT, "| %s | %d | %+d | %d | %+d |%n", variant, median(readyMs.get(variant)),
                    medianDifference(readyMs.get(variant), readyMs.get("raw")), median(cpuMs.get(variant)),
                    medianDifference(cpuMs.get(variant), cpuMs.get("raw")));
        }
    }

    /** Starts the application once: its uptime when ready, and the CPU time the whole process used, in ms. */
    private static long[] start(String variant, String agentOption, String classpath) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        if (agentOption != null) command.add(agentOption);
        command.addAll(List.of("-cp", classpath, "dev.txguard.startupapp.ClinicApp"));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int exit = process.waitFor();
        Matcher ready = READY.matcher(output);
        if (exit != 0 || !ready.find()) throw new IllegalStateException(variant + " did not start (exit " + exit + "):\n" + output);
        if (agentOption != null && !output.contains("txguard agent installed")) {
            throw new IllegalStateException(variant + " ran without the agent:\n" + output);
        }
        return new long[] {Long.parseLong(ready.group(1)), Long.parseLong(ready.group(2))};
    }

    private static long median(List<Long> values) {
        List<Long> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }

    private static long medianDifference(List<Long> values, List<Long> baseline) {
        List<Long> differences = new ArrayList<>();
        for (int i = 0; i < values.size(); i++) differences.add(values.get(i) - baseline.get(i));
        return median(differences);
    }
}
