package io.vqrae.pipeline.demo;

/**
 * Codebook usage of a set of token records, from each code's count.
 *
 * @param codebookSize K
 * @param usedCodes codes used at least once
 * @param perplexity 2^(entropy of the id distribution in bits): how many codes are effectively in use
 */
public record CodebookUsage(int codebookSize, int usedCodes, double perplexity) {

    static CodebookUsage of(long[] counts) {
        long total = 0;
        int used = 0;
        for (long count : counts) {
            total += count;
            used += count > 0 ? 1 : 0;
        }
        double entropy = 0;
        for (long count : counts) {
            if (count > 0) {
                double p = (double) count / total;
                entropy -= p * Math.log(p);
            }
        }
        return new CodebookUsage(counts.length, used, Math.exp(entropy));
    }

    /** Used codes / K. */
    public double utilization() {
        return usedCodes / (double) codebookSize;
    }

    /** Codes never used. */
    public int deadCodes() {
        return codebookSize - usedCodes;
    }
}
