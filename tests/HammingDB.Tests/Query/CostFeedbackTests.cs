using HammingDB.Index.Mih;
using HammingDB.Query;

namespace HammingDB.Tests.Query;

public class CostFeedbackTests
{
    private static readonly CostModel Calibrated = new(ScanRowNs: 0.1, ScanWordNs: 0.2, ProbeNs: 50, PostingNs: 2, WidePostingNs: 40, Source: "measured here");

    private const double Millisecond = 1_000_000;

    // The factor after n observations of one ratio at full weight, as the documented rule computes it.
    private static double Expected(double ratio, int n)
    {
        double weight = 0;
        for (int i = 0; i < n; i++)
        {
            weight = (weight * CostFeedback.Decay) + 1;
        }
        return Math.Exp(weight * Math.Log(ratio) / (CostFeedback.PriorWeight + weight));
    }

    [Fact]
    public void Before_any_observation_the_models_are_the_calibration()
    {
        var feedback = new CostFeedback(Calibrated);
        Assert.Same(Calibrated, feedback.Radius);
        Assert.Same(Calibrated, feedback.Knn);
        Assert.All(Enum.GetValues<CostKind>(), kind => Assert.Equal(1, feedback.Factor(kind)));
        Assert.Equal(0, feedback.Observations);
    }

    [Fact]
    public void A_steady_ratio_becomes_the_factor_of_its_kind_only()
    {
        var feedback = new CostFeedback(Calibrated);
        for (int i = 0; i < 200; i++)
        {
            Assert.True(feedback.Observe(CostKind.MihRadius, Millisecond, 3 * Millisecond));
        }
        Assert.Equal(Expected(3, 200), feedback.Factor(CostKind.MihRadius), 9);
        Assert.InRange(feedback.Factor(CostKind.MihRadius), 2.8, 3.0);
        Assert.Equal(1, feedback.Factor(CostKind.Scan), 12);
        Assert.Equal(1, feedback.Factor(CostKind.MihKnn), 12);
        double f = feedback.Factor(CostKind.MihRadius);
        CostModel radius = feedback.Radius;
        Assert.Equal(Calibrated.ProbeNs * f, radius.ProbeNs, 9);
        Assert.Equal(Calibrated.PostingNs * f, radius.PostingNs, 9);
        Assert.Equal(Calibrated.WidePostingNs * f, radius.WidePostingNs, 9);
        Assert.Equal(Calibrated.ScanRowNs, radius.ScanRowNs, 12);
        Assert.Equal(Calibrated.ScanWordNs, radius.ScanWordNs, 12);
        Assert.Equal(Calibrated.ProbeNs, feedback.Knn.ProbeNs, 12);
        Assert.Equal(Calibrated.Source, radius.Source);
        Assert.StartsWith("measured here; corrected by 200 searches timed: MIH x2.9", feedback.Describe(knn: false), StringComparison.Ordinal);
        Assert.StartsWith("measured here; corrected by 200 searches timed: MIH x1.00", feedback.Describe(knn: true), StringComparison.Ordinal);
        Assert.Equal("measured here", new CostFeedback(Calibrated).Describe(knn: false));
        Assert.Equal(200, feedback.Observations);
    }

    [Fact]
    public void A_plan_the_calibration_favours_flips_when_its_searches_take_longer_than_predicted()
    {
        var shape = new SegmentShape(1_000_000, 4, HasTables: true, InlineCodes: false);
        double scan = Calibrated.ScanNs(shape.Rows, shape.Words);
        var estimate = new MihEstimate(Probes: 1000, Postings: (long)((0.8 * scan - (1000 * Calibrated.ProbeNs)) / Calibrated.WidePostingNs), Exact: true);
        var feedback = new CostFeedback(Calibrated);
        Assert.Equal(SegmentPlan.Mih, Planner.ChooseRadius(feedback.Radius, shape, estimate).Plan); // MIH predicted at 0.8x the scan
        for (int i = 0; i < 100; i++)
        {
            feedback.Observe(CostKind.MihRadius, Millisecond, 2 * Millisecond); // MIH takes twice its prediction
        }
        PlanChoice corrected = Planner.ChooseRadius(feedback.Radius, shape, estimate);
        Assert.Equal(SegmentPlan.Scan, corrected.Plan);
        Assert.InRange(corrected.MihNs / corrected.ScanNs, 1.4, 1.7);
        // Scans that take twice theirs too restore the balance.
        for (int i = 0; i < 300; i++)
        {
            feedback.Observe(CostKind.Scan, 10 * Millisecond, 20 * Millisecond);
            feedback.Observe(CostKind.MihRadius, Millisecond, 2 * Millisecond);
        }
        Assert.Equal(SegmentPlan.Mih, Planner.ChooseRadius(feedback.Radius, shape, estimate).Plan);
    }

    [Fact]
    public void A_kind_keeps_its_factor_while_other_kinds_run()
    {
        var feedback = new CostFeedback(Calibrated);
        for (int i = 0; i < 100; i++)
        {
            feedback.Observe(CostKind.MihKnn, Millisecond, 0.25 * Millisecond);
        }
        double factor = feedback.Factor(CostKind.MihKnn);
        Assert.InRange(factor, 0.25, 0.3);
        for (int i = 0; i < 400; i++)
        {
            feedback.Observe(CostKind.Scan, Millisecond, Millisecond); // the planner now scans: MIH's evidence stays
        }
        Assert.Equal(factor, feedback.Factor(CostKind.MihKnn), 12);
        Assert.Equal(Calibrated.ProbeNs * factor, feedback.Knn.ProbeNs, 9);
    }

    [Theory]
    [InlineData(2.9, 100, false)] // within 3x either way
    [InlineData(5, 10, false)]    // too little evidence yet
    [InlineData(5, 40, true)]
    [InlineData(0.2, 40, true)]
    public void A_factor_beyond_three_times_either_way_on_enough_evidence_asks_for_a_new_calibration(double ratio, int observations, bool drifted)
    {
        var feedback = new CostFeedback(Calibrated);
        for (int i = 0; i < observations; i++)
        {
            feedback.Observe(CostKind.MihRadius, Millisecond, ratio * Millisecond);
        }
        Assert.Equal(drifted, feedback.Drifted);
        Assert.False(new CostFeedback(Calibrated, learns: false).Drifted);
    }

    [Fact]
    public void One_stalled_search_moves_a_factor_by_a_few_percent()
    {
        var feedback = new CostFeedback(Calibrated);
        for (int i = 0; i < 100; i++)
        {
            feedback.Observe(CostKind.Scan, Millisecond, Millisecond);
        }
        feedback.Observe(CostKind.Scan, Millisecond, 1000 * Millisecond); // a second's stall: clamped to 16x, averaged in logarithms
        Assert.InRange(feedback.Factor(CostKind.Scan), 1.01, 1.08);
    }

    [Fact]
    public void Small_searches_weigh_less_and_tiny_ones_not_at_all()
    {
        var feedback = new CostFeedback(Calibrated);
        Assert.False(feedback.Observe(CostKind.MihRadius, CostFeedback.MinPredictedNs / 2, Millisecond));
        Assert.False(feedback.Observe(CostKind.MihRadius, double.NaN, Millisecond));
        Assert.False(feedback.Observe(CostKind.MihRadius, Millisecond, 0));
        Assert.Equal(0, feedback.Observations);
        var small = new CostFeedback(Calibrated);
        var large = new CostFeedback(Calibrated);
        for (int i = 0; i < 10; i++)
        {
            Assert.True(small.Observe(CostKind.MihRadius, CostFeedback.FullWeightNs / 10, 4 * CostFeedback.FullWeightNs / 10));
            Assert.True(large.Observe(CostKind.MihRadius, CostFeedback.FullWeightNs, 4 * CostFeedback.FullWeightNs));
        }
        Assert.InRange(small.Factor(CostKind.MihRadius), 1.2, 2.0);
        Assert.InRange(large.Factor(CostKind.MihRadius), 3.0, 4.0);
    }

    [Fact]
    public void Searches_that_found_many_rows_are_not_counted()
    {
        var feedback = new CostFeedback(Calibrated);
        Assert.False(feedback.Observe(CostKind.Scan, Millisecond, 8 * Millisecond, found: 1001)); // more than a row per microsecond predicted
        Assert.Equal(0, feedback.Observations);
        Assert.True(feedback.Observe(CostKind.Scan, Millisecond, 8 * Millisecond, found: 1000));
        Assert.True(feedback.Factor(CostKind.Scan) > 1);
    }

    [Fact]
    public void A_pinned_model_ignores_observations()
    {
        var feedback = new CostFeedback(Calibrated, learns: false);
        Assert.False(feedback.Observe(CostKind.Scan, Millisecond, 5 * Millisecond));
        Assert.Same(Calibrated, feedback.Radius);
        Assert.Equal(0, feedback.Observations);
    }

    [Fact]
    public void Observations_from_many_threads_are_all_counted()
    {
        var feedback = new CostFeedback(Calibrated);
        Parallel.For(0, 4, _ =>
        {
            for (int i = 0; i < 1000; i++)
            {
                feedback.Observe(CostKind.Scan, Millisecond, 2 * Millisecond);
            }
        });
        Assert.Equal(4000, feedback.Observations);
        Assert.Equal(Expected(2, 4000), feedback.Factor(CostKind.Scan), 9);
    }
}
