package dev.txguard.benchmarks;

import com.zaxxer.hikari.HikariDataSource;
import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The {@link Bank} transfer with the variants taking short turns. {@link BankWorkload} runs each
 * variant in a JMH fork of its own, one after the other. On a 2-core machine that the PostgreSQL server
 * shares, one fork's throughput differs from the next by more than the gap the target is about, for
 * reasons that have nothing to do with the variant (how the scheduler interleaves clients and server, the
 * JIT's choices, the machine's other tenants). Here each variant's JVM starts once and stays warm, and the
 * variants run in turns of a second or two, many rounds, each round in a fresh random order. A ratio is
 * taken within a round, and the table gives its median over the rounds with the 95 % confidence interval
 * of that median. Each worker also reports its own CPU time per transfer, which does not depend on the
 * scheduler's interleaving and so shows a variant's cost far more precisely than throughput.
 *
 * <p>With conflicts, the same transfer runs under SERIALIZABLE between a few hot accounts ({@link Bank#HOT_ACCOUNTS}),
 * so that PostgreSQL ends a large share of the attempts with a serialization failure (40001), which the teller
 * catches and follows with its next attempt: the failure-heavy OLTP workload, where what txguard does on the
 * database's rollback (and says about it) is paid at every failure. There a turn counts attempts, and CPU is per
 * attempt.
 *
 * <p>{@link #fromStart} measures the same from process start instead: each attempt's share of all the CPU a fresh
 * worker JVM spent from its start to the end of its one turn, start-up, class loading and JIT included.
 *
 * <p>The coordinator ({@link #report}) and the workers ({@link #main}, one JVM per variant) speak over
 * the worker's standard input and output: {@code run <ms>} answers {@code bank: <attempts> <nanos>
 * <p50 nanos> <p99 nanos> <user CPU nanos> <system CPU nanos> <failed attempts> <CPU nanos since the JVM's start>
 * <uptime ms>}, {@code quit} ends it.
 */
public final class BankInterleaved {

    /** The first is the baseline. -Dbank.variants=raw,raw measures the harness's own spread (an A/A run). */
    private static final String[] DEFAULT_VARIANTS = System.getProperty("bank.variants",
            Connections.RAW + "," + Connections.TXGUARD + "," + Connections.AGENT_ACTIVATIONS).split(",");
    /** With conflicts every way of running txguard is compared, the agent with stack walks too. */
    private static final String[] CONFLICT_VARIANTS = System.getProperty("bank.variants",
            Connections.RAW + "," + Connections.TXGUARD + "," + Connections.AGENT + "," + Connections.AGENT_ACTIVATIONS)
            .split(",");
    private static String[] VARIANTS = DEFAULT_VARIANTS;
    private static final int THREADS = 4;
    private static final String ANSWER = "bank: ";

    private BankInterleaved() {}

    // ---------------------------------------------------------------- the coordinator

    /** Runs the experiment; returns its section of the report (markdown). */
    static String report(boolean full, String agentJar, boolean conflicts) throws Exception {
        VARIANTS = conflicts ? CONFLICT_VARIANTS : DEFAULT_VARIANTS;
        int rounds = Integer.getInteger("bank.rounds", full ? 40 : 15);
        int warmUpTurns = full ? 5 : 3;
        int turnMillis = Integer.getInteger("bank.turnMillis", full ? 2000 : 1000);
        if (rounds < 1 || turnMillis < 100) {
            throw new IllegalArgumentException("bank.rounds must be at least 1 and bank.turnMillis at least 100; got "
                    + rounds + " and " + turnMillis);
        }
        for (String variant : VARIANTS) {
            if (!List.of(Connections.RAW, Connections.TXGUARD, Connections.AGENT, Connections.AGENT_ACTIVATIONS)
                    .contains(variant)) {
                throw new IllegalArgumentException("unknown variant '" + variant + "' in bank.variants; use "
                        + Connections.RAW + ", " + Connections.TXGUARD + ", " + Connections.AGENT + " or "
                        + Connections.AGENT_ACTIVATIONS + ", separated by commas (the first is the baseline)");
            }
        }
        try (Connection c = DriverManager.getConnection("jdbc:" + Connections.rawUrl(Connections.POSTGRESQL))) {
            Bank.create(c);
        }
        List<Worker> workers = new ArrayList<>();
        try {
            for (int i = 0; i < VARIANTS.length; i++) workers.add(new Worker(VARIANTS[i], i + 1, agentJar, conflicts));
            for (int turn = 0; turn < warmUpTurns; turn++) {
                for (Worker w : workers) w.run(turnMillis);
            }
            double[][] throughput = new double[VARIANTS.length][rounds];
            double[][] p50 = new double[VARIANTS.length][rounds];
            double[][] p99 = new double[VARIANTS.length][rounds];
            double[][] user = new double[VARIANTS.length][rounds];
            double[][] system = new double[VARIANTS.length][rounds];
            double[][] failed = new double[VARIANTS.length][rounds];
            Random order = new Random(20261124);
            List<Integer> indexes = new ArrayList<>();
            for (int i = 0; i < VARIANTS.length; i++) indexes.add(i);
            for (int round = 0; round < rounds; round++) {
                Collections.shuffle(indexes, order);
                for (int i : indexes) {
                    Turn t = workers.get(i).run(turnMillis);
                    throughput[i][round] = t.transfers * 1e9 / t.nanos;
                    p50[i][round] = t.p50Nanos / 1e3;
                    p99[i][round] = t.p99Nanos / 1e3;
                    user[i][round] = t.userNanos / 1e3 / t.transfers;
                    system[i][round] = t.systemNanos / 1e3 / t.transfers;
                    failed[i][round] = 100.0 * t.failures / t.transfers;
                }
                System.out.println("bank round " + (round + 1) + "/" + rounds + ": " + roundLine(throughput, round));
            }
            return table(rounds, turnMillis, throughput, p50, p99, user, system, conflicts ? failed : null);
        } finally {
            for (Worker w : workers) w.quit();
            try (Connection c = DriverManager.getConnection("jdbc:" + Connections.rawUrl(Connections.POSTGRESQL))) {
                Bank.drop(c);
            }
        }
    }

    /**
     * From process start: per round, each variant in a fresh worker JVM that runs one turn of {@code seconds} with
     * conflicts as soon as its pool is up; the CPU per attempt counts everything that JVM spent since it started.
     */
    static String fromStart(boolean full, String agentJar) throws Exception {
        VARIANTS = CONFLICT_VARIANTS;
        int rounds = full ? 5 : 3;
        int seconds = Integer.getInteger("bank.fromStartSeconds", full ? 30 : 10);
        try (Connection c = DriverManager.getConnection("jdbc:" + Connections.rawUrl(Connections.POSTGRESQL))) {
            Bank.create(c);
        }
        double[][] cpuPerAttempt = new double[VARIANTS.length][rounds];
        double[][] attemptsPerSecond = new double[VARIANTS.length][rounds];
        try {
            Random order = new Random(20261207);
            List<Integer> indexes = new ArrayList<>();
            for (int i = 0; i < VARIANTS.length; i++) indexes.add(i);
            for (int round = 0; round < rounds; round++) {
                Collections.shuffle(indexes, order);
                for (int i : indexes) {
                    Worker worker = new Worker(VARIANTS[i], i + 1 + round * VARIANTS.length, agentJar, true);
                    try {
                        Turn t = worker.run(seconds * 1000);
                        cpuPerAttempt[i][round] = t.cpuSinceStartNanos / 1e3 / t.transfers;
                        attemptsPerSecond[i][round] = t.transfers * 1e3 / t.uptimeMillis;
                    } finally {
                        worker.quit();
                    }
                }
                System.out.println("bank from start, round " + (round + 1) + "/" + rounds);
            }
        } finally {
            try (Connection c = DriverManager.getConnection("jdbc:" + Connections.rawUrl(Connections.POSTGRESQL))) {
                Bank.drop(c);
            }
        }
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%d rounds; in each, every variant in a fresh"
                + " JVM runs one %d s turn of the conflicts workload (SERIALIZABLE, %d hot accounts, %d threads) as soon"
                + " as its pool is up. CPU per attempt: all the JVM's CPU from its start to the end of the turn, over"
                + " the turn's attempts; attempts per second: over the JVM's whole life so far. Medians over the"
                + " rounds; a ratio is taken within a round.%n%n", rounds, seconds, Bank.HOT_ACCOUNTS, THREADS));
        s.append("| variant | CPU per attempt from start | ratio to " + VARIANTS[0] + " | attempts/s from start | ratio to "
                + VARIANTS[0] + " |\n|---|---|---|---|---|\n");
        for (int i = 0; i < VARIANTS.length; i++) {
            double[] cpuRatio = new double[rounds];
            double[] rateRatio = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                cpuRatio[r] = cpuPerAttempt[i][r] / cpuPerAttempt[0][r];
                rateRatio[r] = attemptsPerSecond[i][r] / attemptsPerSecond[0][r];
            }
            s.append(String.format(Locale.ROOT, "| %s | %.0f µs | %.2f | %.0f /s | %.2f |%n", VARIANTS[i],
                    Main.median(cpuPerAttempt[i]), Main.median(cpuRatio), Main.median(attemptsPerSecond[i]),
                    Main.median(rateRatio)));
        }
        return s.toString();
    }

    private static String roundLine(double[][] throughput, int round) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < VARIANTS.length; i++) {
            s.append(String.format(Locale.ROOT, "%s %.0f/s (%.3f)  ", VARIANTS[i], throughput[i][round],
                    throughput[i][round] / throughput[0][round]));
        }
        return s.toString();
    }

    /** {@code failed}: with conflicts, the share of attempts that failed, per variant and round; null without. */
    private static String table(int rounds, int turnMillis, double[][] throughput, double[][] p50, double[][] p99,
                                double[][] user, double[][] system, double[][] failed) {
        boolean cpuMeasured = Arrays.stream(user[0]).anyMatch(v -> v > 0); // from /proc/self/stat: Linux only
        StringBuilder s = new StringBuilder();
        String unit = failed == null ? "transfer" : "attempt";
        s.append(String.format(Locale.ROOT, "%d rounds of one %d ms turn per variant (%d threads, HikariCP with 4"
                + " connections%s), each round in a random order, after warm-up turns; medians over the rounds, and the"
                + " 95 %% confidence interval of the median. Throughput and CPU: per %s; CPU is the worker JVM's own, %s.%n%n",
                rounds, turnMillis, THREADS, failed == null ? "" : ", SERIALIZABLE, " + Bank.HOT_ACCOUNTS + " hot accounts",
                unit, cpuMeasured ? "all its threads" : "not measured (no /proc/self/stat)"));
        if (failed != null) {
            s.append("Attempts that failed with a serialization failure (median over the rounds): ");
            for (int i = 0; i < VARIANTS.length; i++) {
                s.append(String.format(Locale.ROOT, "%s%s %.0f %%", i == 0 ? "" : ", ", VARIANTS[i], Main.median(failed[i])));
            }
            s.append(".\n\n");
        }
        s.append("| variant | throughput | ratio to " + VARIANTS[0] + " | 95 % interval | p50 | p99 | CPU user | CPU system"
                + " | user CPU added | 95 % interval |\n");
        s.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (int i = 0; i < VARIANTS.length; i++) {
            double[] ratios = new double[rounds];
            double[] added = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratios[r] = throughput[i][r] / throughput[0][r];
                added[r] = user[i][r] - user[0][r];
            }
            double[] ratioInterval = medianInterval(ratios);
            double[] addedInterval = medianInterval(added);
            String cpu = !cpuMeasured ? "| | | | |" : String.format(Locale.ROOT, "| %.1f µs | %.1f µs | %+.1f µs | %+.1f to %+.1f µs |",
                    Main.median(user[i]), Main.median(system[i]), Main.median(added), addedInterval[0], addedInterval[1]);
            s.append(String.format(Locale.ROOT, "| %s | %.0f /s | %.3f | %.3f to %.3f | %.0f µs | %.0f µs %s%n", VARIANTS[i],
                    Main.median(throughput[i]), Main.median(ratios), ratioInterval[0], ratioInterval[1], Main.median(p50[i]),
                    Main.median(p99[i]), cpu));
        }
        s.append(pooled(rounds, throughput, user, cpuMeasured));
        return s.toString();
    }

    /**
     * When a variant runs in more than one JVM: each variant's JVMs taken together, round by round (the mean
     * of their throughputs against the mean of the baseline variant's JVMs). One JVM differs from the next
     * of the same variant by a few per cent, more than the target's margin, so a variant is judged by its
     * JVMs pooled, not by any one of them against one baseline JVM.
     */
    private static String pooled(int rounds, double[][] throughput, double[][] user, boolean cpuMeasured) {
        List<String> variants = new ArrayList<>(new java.util.LinkedHashSet<>(Arrays.asList(VARIANTS)));
        if (variants.size() == VARIANTS.length) return "";
        StringBuilder s = new StringBuilder(String.format(Locale.ROOT, "%nEach variant's JVMs pooled: per round, the mean"
                + " throughput of its JVMs against the mean of the %s JVMs (and the same for user CPU per transfer);"
                + " medians over the rounds, with the 95 %% confidence interval of the median.%n%n", VARIANTS[0]));
        s.append("| variant | JVMs | ratio to " + VARIANTS[0] + " | 95 % interval | user CPU added | 95 % interval |\n");
        s.append("|---|---|---|---|---|---|\n");
        for (String variant : variants) {
            double[] ratios = new double[rounds];
            double[] added = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                ratios[r] = meanOver(variant, throughput, r) / meanOver(VARIANTS[0], throughput, r);
                added[r] = meanOver(variant, user, r) - meanOver(VARIANTS[0], user, r);
            }
            double[] ratioInterval = medianInterval(ratios);
            double[] addedInterval = medianInterval(added);
            String cpu = !cpuMeasured ? "| | |" : String.format(Locale.ROOT, "| %+.1f µs | %+.1f to %+.1f µs |",
                    Main.median(added), addedInterval[0], addedInterval[1]);
            s.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f to %.3f %s%n", variant,
                    Collections.frequency(Arrays.asList(VARIANTS), variant), Main.median(ratios), ratioInterval[0],
                    ratioInterval[1], cpu));
        }
        return s.toString();
    }

    /** The mean of one round's values over the JVMs of one variant. */
    private static double meanOver(String variant, double[][] values, int round) {
        double sum = 0;
        int jvms = 0;
        for (int i = 0; i < VARIANTS.length; i++) {
            if (VARIANTS[i].equals(variant)) {
                sum += values[i][round];
                jvms++;
            }
        }
        return sum / jvms;
    }

    /**
     * A distribution-free 95 % confidence interval for the median: the k-th smallest and k-th largest
     * values, k the largest rank for which fewer than k of n values fall below the median with probability
     * at most 2.5 % (the binomial distribution with p = 1/2).
     */
    static double[] medianInterval(double[] values) {
        double[] v = values.clone();
        Arrays.sort(v);
        int n = v.length;
        int k = 0;
        double below = 0; // P(X <= k - 1) for X ~ Binomial(n, 1/2)
        double term = Math.pow(0.5, n); // P(X = k)
        while (k < n && below + term <= 0.025) {
            below += term;
            term = term * (n - k) / (k + 1);
            k++;
        }
        // k values of X (0 .. k-1) lie in the lower tail: the interval runs from the k-th smallest to the k-th largest.
        if (k == 0) return new double[] {v[0], v[n - 1]}; // too few rounds for 95 %: the whole range
        return new double[] {v[k - 1], v[n - k]};
    }

    /** One variant's JVM. */
    private static final class Worker {
        final String variant;
        final Process process;
        final Writer commands;
        final BufferedReader answers;

        Worker(String variant, int index, String agentJar, boolean conflicts) throws IOException {
            this.variant = variant;
            List<String> command = new ArrayList<>();
            command.add(System.getProperty("java.home") + File.separator + "bin" + File.separator + "java");
            command.addAll(List.of(Main.jvmArguments(variant, agentJar)));
            command.add("-cp");
            command.add(System.getProperty("java.class.path"));
            command.add(BankInterleaved.class.getName());
            command.add(variant);
            command.add(Long.toString(index * 1_000_000_000_000L));
            command.add(Boolean.toString(conflicts));
            process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            commands = new java.io.OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            answers = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            answer(); // ready
        }

        Turn run(int millis) throws IOException {
            commands.write("run " + millis + "\n");
            commands.flush();
            String[] fields = answer().split(" ");
            Turn turn = new Turn(Long.parseLong(fields[0]), Long.parseLong(fields[1]), Long.parseLong(fields[2]),
                    Long.parseLong(fields[3]), Long.parseLong(fields[4]), Long.parseLong(fields[5]), Long.parseLong(fields[6]));
            turn.cpuSinceStartNanos = Long.parseLong(fields[7]);
            turn.uptimeMillis = Long.parseLong(fields[8]);
            return turn;
        }

        private String answer() throws IOException {
            for (String line; (line = answers.readLine()) != null; ) {
                if (line.startsWith(ANSWER)) return line.substring(ANSWER.length());
                System.out.println("[" + variant + "] " + line);
            }
            throw new IllegalStateException("the " + variant + " worker ended without answering (exit code "
                    + waitFor() + "); its errors are above");
        }

        private int waitFor() {
            try {
                return process.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return -1;
            }
        }

        void quit() {
            try {
                commands.write("quit\n");
                commands.flush();
            } catch (IOException alreadyGone) {
                // it ended on its own; its errors were printed
            }
            waitFor();
        }
    }

    private static final class Turn {
        final long transfers;
        final long nanos;
        final long p50Nanos;
        final long p99Nanos;
        final long userNanos;
        final long systemNanos;
        final long failures;
        /** The worker JVM's CPU time, all threads, from its start to the end of the turn; and its uptime then. */
        long cpuSinceStartNanos;
        long uptimeMillis;

        Turn(long transfers, long nanos, long p50Nanos, long p99Nanos, long userNanos, long systemNanos, long failures) {
            this.transfers = transfers;
            this.nanos = nanos;
            this.p50Nanos = p50Nanos;
            this.p99Nanos = p99Nanos;
            this.userNanos = userNanos;
            this.systemNanos = systemNanos;
            this.failures = failures;
        }
    }

    // ---------------------------------------------------------------- a worker

    /** A worker: {@code <variant> <first key> <conflicts>}; commands on standard input (see the class comment). */
    public static void main(String[] args) throws Exception {
        String variant = args[0];
        long idBase = Long.parseLong(args[1]);
        boolean conflicts = Boolean.parseBoolean(args[2]);
        PrintStream out = System.out;
        try (HikariDataSource pool = Bank.pool(variant, conflicts)) {
            checkGuarded(pool, variant);
            Bank bank = new Bank(pool, variant, idBase, conflicts);
            ExecutorService tellers = Executors.newFixedThreadPool(THREADS);
            long[][] latencies = new long[THREADS][1 << 20];
            out.println(ANSWER + "ready");
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            for (String line; (line = in.readLine()) != null && !line.equals("quit"); ) {
                long millis = Long.parseLong(line.substring("run ".length()));
                out.println(ANSWER + turn(bank, tellers, latencies, millis));
            }
            tellers.shutdown();
        }
    }

    private static String turn(Bank bank, ExecutorService tellers, long[][] latencies, long millis) throws Exception {
        long[] cpuBefore = processCpu();
        long start = System.nanoTime();
        long deadline = start + millis * 1_000_000;
        List<Future<Integer>> done = new ArrayList<>();
        java.util.concurrent.atomic.AtomicLong failures = new java.util.concurrent.atomic.AtomicLong();
        for (int t = 0; t < THREADS; t++) {
            long[] mine = latencies[t];
            done.add(tellers.submit(() -> {
                SplittableRandom random = new SplittableRandom();
                int n = 0;
                for (long now = System.nanoTime(); now < deadline && n < mine.length; ) {
                    try {
                        bank.transfer(random);
                    } catch (SQLException e) {
                        // The teller's retry is its next attempt; anything but a serialization failure or a deadlock ends the run.
                        if (!"40001".equals(e.getSQLState()) && !"40P01".equals(e.getSQLState())) throw e;
                        failures.incrementAndGet();
                    }
                    long after = System.nanoTime();
                    mine[n++] = after - now;
                    now = after;
                }
                return n;
            }));
        }
        int[] counts = new int[THREADS];
        int total = 0;
        for (int t = 0; t < THREADS; t++) {
            counts[t] = done.get(t).get();
            total += counts[t];
        }
        long nanos = System.nanoTime() - start;
        long[] cpuAfter = processCpu();
        long[] all = new long[total];
        int at = 0;
        for (int t = 0; t < THREADS; t++) {
            System.arraycopy(latencies[t], 0, all, at, counts[t]);
            at += counts[t];
        }
        Arrays.sort(all);
        return total + " " + nanos + " " + all[total / 2] + " " + all[(int) Math.min(total - 1, Math.ceil(total * 0.99) - 1)]
                + " " + (cpuAfter[0] - cpuBefore[0]) + " " + (cpuAfter[1] - cpuBefore[1]) + " " + failures.get()
                + " " + (cpuAfter[0] + cpuAfter[1]) + " " + java.lang.management.ManagementFactory.getRuntimeMXBean().getUptime();
    }

    /**
     * This JVM's user and system CPU time so far, in nanoseconds, from /proc/self/stat (in ticks of 10 ms,
     * Linux's USER_HZ): the JIT's and the collector's threads count, as the garbage a variant makes is part
     * of its cost.
     */
    private static long[] processCpu() {
        String stat;
        try {
            stat = new String(java.nio.file.Files.readAllBytes(java.nio.file.Path.of("/proc/self/stat")),
                    StandardCharsets.US_ASCII);
        } catch (IOException notLinux) {
            return new long[] {0, 0}; // the table then says the CPU was not measured
        }
        // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, utime 14, stime 15.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return new long[] {Long.parseLong(fields[11]) * 10_000_000L, Long.parseLong(fields[12]) * 10_000_000L};
    }

    /** The connection behind HikariCP's proxy is txguard's exactly when the variant names it. */
    private static void checkGuarded(HikariDataSource pool, String variant) throws SQLException {
        try (Connection c = pool.getConnection()) {
            Connections.checked(c.unwrap(Connection.class), !variant.equals(Connections.RAW));
        }
    }
}
