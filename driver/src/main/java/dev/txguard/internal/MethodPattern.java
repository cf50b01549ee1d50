package dev.txguard.internal;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code com.acme.pay.Transfers#toOtherBank}, {@code com.acme.ledger.*#*}, or a class alone
 * ({@code com.acme.db.Tx}, meaning every method). {@code *} stands for any run of characters,
 * dots included.
 */
final class MethodPattern {

    private final String classGlob;
    private final String methodGlob;
    private final String text;

    private MethodPattern(String classGlob, String methodGlob, String text) {
        this.classGlob = classGlob;
        this.methodGlob = methodGlob;
        this.text = text;
    }

    static MethodPattern[] parseList(String key, String value, boolean methodRequired) throws SQLException {
        List<MethodPattern> patterns = new ArrayList<>();
        for (String item : value.split(",")) {
            String p = item.trim();
            if (p.isEmpty()) continue;
            patterns.add(parse(key, p, methodRequired));
        }
        return patterns.toArray(new MethodPattern[0]);
    }

    private static MethodPattern parse(String key, String p, boolean methodRequired) throws SQLException {
        int hash = p.indexOf('#');
        String cls = hash < 0 ? p : p.substring(0, hash);
        String method = hash < 0 ? "*" : p.substring(hash + 1);
        String allowed = methodRequired
                ? "allowed: fully.qualified.Class#method, with * for any characters (com.acme.ledger.*#*)"
                : "allowed: fully.qualified.Class or Class#method, with * for any characters (com.acme.db.*)";
        if (methodRequired && hash < 0) {
            throw Errors.config(key + ": '" + p + "' names no method; " + allowed);
        }
        if (!validClass(cls)) {
            throw Errors.config(key + ": '" + p + "' has no valid class name before '#'; " + allowed);
        }
        if (!validMethod(method)) {
            throw Errors.config(key + ": '" + p + "' has no valid method name after '#'; " + allowed);
        }
        return new MethodPattern(cls, method, p);
    }

    private static boolean validClass(String cls) {
        if (cls.isEmpty() || cls.startsWith(".") || cls.endsWith(".") || cls.contains("..")) return false;
        for (String part : cls.split("\\.")) {
            if (!validIdentifierGlob(part)) return false;
        }
        return true;
    }

    private static boolean validMethod(String method) {
        return validIdentifierGlob(method) || method.equals("<init>");
    }

    private static boolean validIdentifierGlob(String s) {
        if (s.isEmpty()) return false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            boolean ok = c == '*' || (i == 0 ? Character.isJavaIdentifierStart(c) : Character.isJavaIdentifierPart(c));
            if (!ok) return false;
        }
        return true;
    }

    boolean matchesClass(String className) {
        return glob(classGlob, className);
    }

    boolean matches(String className, String methodName) {
        return glob(methodGlob, methodName) && glob(classGlob, className);
    }

    static boolean anyMatchesClass(MethodPattern[] patterns, String className) {
        for (MethodPattern p : patterns) {
            if (p.matchesClass(className)) return true;
        }
        return false;
    }

    static boolean anyMatches(MethodPattern[] patterns, String className, String methodName) {
        for (MethodPattern pattern : patterns) {
            if (pattern.matches(className, methodName)) return true;
        }
        return false;
    }

    /** Glob match with '*' as the only wildcard; no allocation, linear backtracking on the last star. */
    static boolean glob(String pattern, String text) {
        int p = 0;
        int t = 0;
        int star = -1;
        int mark = 0;
        while (t < text.length()) {
            if (p < pattern.length() && pattern.charAt(p) == text.charAt(t) && pattern.charAt(p) != '*') {
                p++;
                t++;
            } else if (p < pattern.length() && pattern.charAt(p) == '*') {
                star = p++;
                mark = t;
            } else if (star >= 0) {
                p = star + 1;
                t = ++mark;
            } else {
                return false;
            }
        }
        while (p < pattern.length() && pattern.charAt(p) == '*') p++;
        return p == pattern.length();
    }

    @Override
    public String toString() {
        return text;
    }
}
