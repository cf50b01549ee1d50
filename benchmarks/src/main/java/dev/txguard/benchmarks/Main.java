package dev.txguard.benchmarks;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.infra.BenchmarkParams;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the benchmarks so that their ratios mean something on a small shared machine: every compared
 * variant runs in its own forked JVM, and the variants take turns, round after round, so that a
 * disturbance hits them alike. A ratio is computed within each round, against the baseline of the same
 * round, and the table reports medians over the rounds.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar short    # everything, about 45 minutes on 2 cores
 * java -jar benchmarks/target/benchmarks.jar full     # everything, longer iterations and more rounds
 * java -jar benchmarks/target/benchmarks.jar short HotPath   # only the experiments whose name contains this
 * </pre>
 */
public final class Main {

    /** One comparison: a benchmark class, the variants compared, the baseline, the fixed parameters. */
    private static final class Experiment {
        final String title;
        final Class<?> benchmark;
        final String[] variants;
        final String baseline;
        final Map<String, String> fixed;
        final boolean gc;
        final Warmup warmup;

        Experiment(String title, Class<?> benchmark, String[] variants, String baseline, Map<String, String> fixed,
                   boolean gc) {
            this(title, benchmark, variants, baseline, fixed, gc, Warmup.OF_THE_RUN);
        }

        Experiment(String title, Class<?> benchmark, String[] variants, String baseline, Map<String, String> fixed,
                   boolean gc, Warmup warmup) {
            this.title = title;
            this.benchmark = benchmark;
            this.variants = variants;
            this.baseline = baseline;
            this.fixed = fixed;
            this.gc = gc;
            this.warmup = warmup;
        }
    }

    private enum Warmup {
        /** The run's own: short 3 x 0.4 s, full 4 x 1 s. */
        OF_THE_RUN(0),
        /**
         * Under the agent with activations the JIT finishes late, on Temurin 25 most: after the short run's
         * warm-up a nested unit on the stub still took 1 to 5 us in some iterations, 230 ns in the others.
         */
        LONG(6),
        /**
         * Each JVM compiles in the order the code gets hot and waits for every compilation (-Xbatch), so that
         * the variants are compared with their code compiled alike. The last compilation of JMH's measuring
         * loop comes 3 s into the fork, and 8 s under the agent with activations.
         */
        COMPILED_IN_ORDER(10);

        /** Iterations of a second, in short and full runs alike; 0 for the run's own warm-up. */
        final int seconds;

        Warmup(int seconds) {
            this.seconds = seconds;
        }
    }

    /** One measurement: a benchmark method under one variant in one round. */
    private static final class Sample {
        final String method;
        final String variant;
        final int round;
        final double score;
        final double p99;
        final double allocatedPerOp;
        final String unit;

        Sample(String method, String variant, int round, double score, double p99, double allocatedPerOp, String unit) {
            this.method = method;
            this.variant = variant;
            this.round = round;
            this.score = score;
            this.p99 = p99;
            this.allocatedPerOp = allocatedPerOp;
            this.unit = unit;
        }
    }

    private final boolean full;
    private final String agentJar;
    private final StringBuilder report = new StringBuilder();

    private Main(boolean full, String agentJar) {
        this.full = full;
        this.agentJar = agentJar;
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || !(args[0].equals("short") || args[0].equals("full"))) {
            System.err.println("usage: java -jar benchmarks.jar short|full [experiment name filter]");
            System.exit(2);
        }
        Main main = new Main(args[0].equals("full"), agentJar());
        main.run(args.length > 1 ? args[1] : "");
    }

    private static String agentJar() throws Exception {
        File here = new File(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        File agent = new File(here.getParentFile(), "txguard-agent.jar");
        if (!agent.isFile()) {
            throw new IllegalStateException("the agent jar is missing: " + agent + "; build with mvn -B -Pbenchmarks -DskipTests package");
        }
        return agent.getAbsolutePath();
    }

    private void run(String filter) throws Exception {
        boolean postgres = postgresReachable();
        line("# txguard benchmarks (" + (full ? "full" : "short") + " run)");
        line("");
        line("Machine: " + Runtime.getRuntime().availableProcessors() + " cores, " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch") + "; JDK " + System.getProperty("java.vm.name") + " "
                + System.getProperty("java.version") + ". Each variant runs in its own JVM; variants alternate round"
                + " by round; figures are medians over " + rounds() + " rounds, ratios are taken within a round.");
        if (!postgres) line("\nPostgreSQL is not reachable at 127.0.0.1:5432: its experiments are skipped.");

        List<Experiment> experiments = new ArrayList<>();
        for (String db : postgres ? new String[] {"h2", "postgresql", "stub"} : new String[] {"h2", "stub"}) {
            experiments.add(new Experiment("HotPath " + db, HotPath.class,
                    new String[] {"raw", "txguard", "agent", "agent-activations", "p6spy", "datasource-proxy"}, "raw",
                    Map.of("database", db), true));
        }
        // Without -Xbatch, the same code lands on a different compilation from one JVM to the next (H2's
        // iteration: 11.5 to 16 us per 1,000 rows, raw included); compiled in order, each variant lands on one
        // (on JDK 17; on Temurin 25 the stub's loop still lands on one of two). datasource-proxy is the control: it
        // hands out the driver's own ResultSet, so its rows run raw's compiled loop. On the stub, whose row methods
        // are calls the JIT cannot see into: what the wrapper costs per row in front of such a driver.
        for (String db : new String[] {"h2", "stub"}) {
            experiments.add(new Experiment("Iteration " + db + ", compiled in order", Iteration.class,
                    new String[] {"raw", "txguard", "agent-activations", "datasource-proxy"}, "raw",
                    Map.of("database", db), false, Warmup.COMPILED_IN_ORDER));
        }
        for (String check : new String[] {"volatile", "plain"}) {
            experiments.add(new Experiment("WrapperCost " + check, WrapperCost.class, new String[] {"direct", "wrapped"},
                    "direct", Map.of("check", check), false, Warmup.COMPILED_IN_ORDER));
        }
        for (String depth : new String[] {"10", "100", "300"}) {
            experiments.add(new Experiment("TransactionControl depth " + depth, TransactionControl.class,
                    new String[] {"raw", "txguard", "agent", "agent-activations"}, "raw",
                    Map.of("depth", depth, "database", "h2"), true));
        }
        // H2's own time for the cycle moves by a microsecond from fork to fork; the stub's does not, so the
        // difference from raw is what txguard adds.
        experiments.add(new Experiment("TransactionControl stub depth 100", TransactionControl.class,
                new String[] {"raw", "txguard", "agent", "agent-activations"}, "raw",
                Map.of("depth", "100", "database", "stub"), true, Warmup.LONG));
        for (String db : postgres ? new String[] {"h2", "postgresql", "stub"} : new String[] {"h2", "stub"}) {
            experiments.add(new Experiment("NestedScopes " + db, NestedScopes.class,
                    new String[] {NestedScopes.HANDWRITTEN, NestedScopes.TXGUARD, NestedScopes.TXGUARD_EMPTY,
                            NestedScopes.ACTIVATIONS, NestedScopes.ACTIVATIONS_EMPTY, NestedScopes.SPRING,
                            NestedScopes.SPRING_EMPTY, NestedScopes.FLAT},
                    NestedScopes.HANDWRITTEN, Map.of("database", db), false,
                    db.equals(Connections.STUB) ? Warmup.LONG : Warmup.OF_THE_RUN));
        }
        experiments.add(new Experiment("StackWalks depth 100", StackWalks.class,
                new String[] {StackWalks.NONE, StackWalks.CALLER_CLASS, "1", "4", "8", "16", "24"}, StackWalks.NONE,
                Map.of(), false));
        experiments.add(new Experiment("MethodCalls", MethodCalls.class, new String[] {"raw", "agent-activations"}, "raw",
                Map.of(), false));
        if (postgres) {
            experiments.add(new Experiment("BankWorkload postgresql", BankWorkload.class,
                    new String[] {"raw", "txguard", "agent-activations"}, "raw", Map.of(), false));
        }
        for (Experiment e : experiments) {
            if (e.title.contains(filter)) runExperiment(e);
        }
        if ("BankInterleaved postgresql".contains(filter) || filter.isEmpty()) {
            line("\n## BankInterleaved postgresql\n");
            if (postgres) line(BankInterleaved.report(full, agentJar, false)); else line("skipped: PostgreSQL not reachable");
        }
        if ("BankInterleaved postgresql serializable conflicts".contains(filter) || filter.isEmpty()) {
            line("\n## BankInterleaved postgresql serializable conflicts\n");
            if (postgres) line(BankInterleaved.report(full, agentJar, true)); else line("skipped: PostgreSQL not reachable");
        }
        if ("BankInterleaved postgresql serializable conflicts from start".contains(filter) || filter.isEmpty()) {
            line("\n## BankInterleaved postgresql serializable conflicts from start\n");
            if (postgres) line(BankInterleaved.fromStart(full, agentJar)); else line("skipped: PostgreSQL not reachable");
        }
        if ("RoundTrips".contains(filter) || filter.isEmpty()) {
            line("\n## Round trips per unit of work (PostgreSQL, counted from the driver's protocol log)\n");
            if (postgres) line(RoundTrips.table()); else line("skipped: PostgreSQL not reachable");
        }
        if ("Memory".contains(filter) || filter.isEmpty()) {
            line("\n## Memory\n");
            line(Memory.report(full ? 1_000_000 : 200_000));
        }
        Path out = Path.of(System.getProperty("user.dir"), "benchmarks-" + (full ? "full" : "short") + ".md");
        Files.writeString(out, report.toString(), StandardCharsets.UTF_8);
        System.out.println("\nwritten to " + out);
    }

    private int rounds() {
        return full ? 5 : 3;
    }

    private void runExperiment(Experiment e) throws Exception {
        List<Sample> samples = new ArrayList<>();
        for (int round = 0; round < rounds(); round++) {
            for (int i = 0; i < e.variants.length; i++) {
                String variant = e.variants[(i + round) % e.variants.length]; // a different order each round
                for (RunResult r : runJmh(e, variant)) samples.add(sample(r, variant, round));
            }
        }
        table(e, samples);
    }

    private Collection<RunResult> runJmh(Experiment e, String variant) throws Exception {
        ChainedOptionsBuilder options = new OptionsBuilder()
                .include("^" + e.benchmark.getName().replace(".", "\\.") + "\\.")
                .param("variant", variant)
                .forks(1)
                .warmupIterations(e.warmup.seconds > 0 ? e.warmup.seconds : full ? 4 : 3)
                .warmupTime(TimeValue.milliseconds(full || e.warmup.seconds > 0 ? 1000 : 400))
                .measurementIterations(full ? 5 : 3)
                .measurementTime(TimeValue.milliseconds(full ? 1000 : 500))
                .jvmArgsAppend(jvmArguments(variant, agentJar))
                .shouldFailOnError(true);
        if (e.warmup == Warmup.COMPILED_IN_ORDER) options.jvmArgsPrepend("-Xbatch");
        if (Connections.STUB.equals(e.fixed.get("database"))) options.jvmArgsPrepend(Connections.STUB_JVM_ARGUMENTS);
        for (Map.Entry<String, String> p : e.fixed.entrySet()) options.param(p.getKey(), p.getValue());
        if (e.gc) options.addProfiler(GCProfiler.class);
        return new Runner(options.build()).run();
    }

    /** The agent variants run under -javaagent; everything else in a plain JVM (JMH's forks and BankInterleaved's workers). */
    static String[] jvmArguments(String variant, String agentJar) {
        switch (variant) {
            case Connections.AGENT: return new String[] {"-Xmx2g", "-javaagent:" + agentJar};
            case Connections.AGENT_ACTIVATIONS:
            case NestedScopes.ACTIVATIONS:
            case NestedScopes.ACTIVATIONS_EMPTY:
                return new String[] {"-Xmx2g", "-javaagent:" + agentJar + "=application=dev.txguard.benchmarks.*"};
            default: return new String[] {"-Xmx2g"};
        }
    }

    private static Sample sample(RunResult r, String variant, int round) {
        BenchmarkParams params = r.getParams();
        String method = params.getBenchmark().substring(params.getBenchmark().lastIndexOf('.') + 1);
        Result<?> primary = r.getPrimaryResult();
        double p99 = Double.NaN;
        if (primary.getStatistics().getN() > 0 && params.getMode() == org.openjdk.jmh.annotations.Mode.SampleTime) {
            p99 = primary.getStatistics().getPercentile(99);
        }
        Result<?> alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
        return new Sample(method, variant, round, primary.getScore(), p99, alloc == null ? Double.NaN : alloc.getScore(),
                primary.getScoreUnit());
    }

    private void table(Experiment e, List<Sample> samples) {
        line("\n## " + e.title + "\n");
        Map<String, List<Sample>> byMethod = new LinkedHashMap<>();
        for (Sample s : samples) byMethod.computeIfAbsent(s.method, k -> new ArrayList<>()).add(s);
        boolean sampled = samples.stream().anyMatch(s -> !Double.isNaN(s.p99));
        StringBuilder header = new StringBuilder("| benchmark | variant | time per op | ratio to " + e.baseline
                + " | added per op |");
        StringBuilder rule = new StringBuilder("|---|---|---|---|---|");
        if (e.gc) {
            header.append(" bytes allocated per op | added bytes per op |");
            rule.append("---|---|");
        }
        if (sampled) {
            header.append(" p99 | throughput (ops/s, 4 threads) |");
            rule.append("---|---|");
        }
        line(header.toString());
        line(rule.toString());
        for (Map.Entry<String, List<Sample>> m : byMethod.entrySet()) {
            for (String variant : e.variants) {
                List<Double> scores = new ArrayList<>();
                List<Double> ratios = new ArrayList<>();
                List<Double> added = new ArrayList<>();
                List<Double> allocs = new ArrayList<>();
                List<Double> addedAllocs = new ArrayList<>();
                List<Double> p99s = new ArrayList<>();
                String unit = "";
                for (Sample s : m.getValue()) {
                    if (!s.variant.equals(variant)) continue;
                    Sample base = find(m.getValue(), e.baseline, s.round);
                    unit = s.unit;
                    scores.add(s.score);
                    p99s.add(s.p99);
                    allocs.add(s.allocatedPerOp);
                    if (base != null) {
                        ratios.add(s.score / base.score);
                        added.add(s.score - base.score);
                        addedAllocs.add(s.allocatedPerOp - base.allocatedPerOp);
                    }
                }
                if (scores.isEmpty()) continue;
                StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "| %s | %s | %s %s | %.3f× | %s %s |",
                        m.getKey(), variant, number(median(scores)), unit, median(ratios),
                        number(median(added)), unit));
                if (e.gc) row.append(String.format(Locale.ROOT, " %.0f | %.0f |", median(allocs), median(addedAllocs)));
                if (sampled) {
                    double mean = median(scores);
                    double perSecond = unit.startsWith("us") ? 4 * 1_000_000 / mean : Double.NaN;
                    row.append(String.format(Locale.ROOT, " %s %s | %.0f |", number(median(p99s)), unit, perSecond));
                }
                line(row.toString());
            }
        }
    }

    private static Sample find(List<Sample> samples, String variant, int round) {
        for (Sample s : samples) {
            if (s.variant.equals(variant) && s.round == round) return s;
        }
        return null;
    }

    static double median(List<Double> values) {
        return median(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** NaN for no values. */
    static double median(double[] values) {
        if (values.length == 0) return Double.NaN;
        double[] v = values.clone();
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String number(double d) {
        return Math.abs(d) >= 100 ? String.format(Locale.ROOT, "%.0f", d) : String.format(Locale.ROOT, "%.2f", d);
    }

    private void line(String s) {
        report.append(s).append('\n');
        System.out.println(s);
    }

    private static boolean postgresReachable() {
        try (java.sql.Connection c = DriverManager.getConnection("jdbc:" + Connections.rawUrl(Connections.POSTGRESQL))) {
            return c.isValid(5);
        } catch (Exception e) {
            return false;
        }
    }
}
