using HammingDB.Index.Mih;
using HammingDB.Kernels;
using HammingDB.Query;
using Xunit.Abstractions;

namespace HammingDB.Tests.Query;

public class PlannerTests(ITestOutputHelper output)
{
    private static readonly CostModel Model = new(ScanRowNs: 0.1, ScanWordNs: 0.2, ProbeNs: 50, PostingNs: 2, WidePostingNs: 40, Source: "test");

    [Fact]
    public void Costs_follow_the_model()
    {
        Assert.Equal(1_000_000 * (0.1 + (0.2 * 4)), Model.ScanNs(1_000_000, 4), 6);
        Assert.Equal((10 * 50) + (100 * 2.0), Model.MihNs(10, 100, inlineCodes: true), 6);
        Assert.Equal((10 * 50) + (100 * 40.0), Model.MihNs(10, 100, inlineCodes: false), 6);
    }

    [Theory]
    [InlineData(1_000_000, 1, true)]
    [InlineData(1_000_000, 4, false)]
    [InlineData(70_000, 1, true)]
    public void A_radius_plan_flips_to_the_scan_exactly_where_the_predicted_MIH_cost_passes_it(long rows, int words, bool inline)
    {
        var shape = new SegmentShape(rows, words, HasTables: true, InlineCodes: inline);
        double scan = Model.ScanNs(rows, words);
        const long probes = 100;
        double perPosting = inline ? Model.PostingNs : Model.WidePostingNs;
        long breakEven = (long)Math.Floor((scan - (probes * Model.ProbeNs)) / perPosting);
        Assert.True(breakEven > 0);
        PlanChoice below = Planner.ChooseRadius(Model, shape, new MihEstimate(probes, breakEven, true));
        PlanChoice above = Planner.ChooseRadius(Model, shape, new MihEstimate(probes, breakEven + 1, true));
        Assert.Equal(SegmentPlan.Mih, below.Plan);
        Assert.Equal(SegmentPlan.Scan, above.Plan);
        Assert.True(below.MihNs <= below.ScanNs && above.MihNs > above.ScanNs);
        Assert.Equal(scan, above.ScanNs, 6);
        Assert.Contains("exact bucket sizes", below.Reason, StringComparison.Ordinal);
        Assert.Contains("average bucket size", Planner.ChooseRadius(Model, shape, new MihEstimate(probes, 1, false)).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Probes_alone_can_make_the_scan_cheaper_and_a_segment_without_tables_is_always_scanned()
    {
        var shape = new SegmentShape(100_000, 1, HasTables: true, InlineCodes: true);
        long maxProbes = Planner.MaxProbesToCount(Model, shape);
        Assert.Equal((long)(Model.ScanNs(100_000, 1) / Model.ProbeNs), maxProbes);
        Assert.Equal(SegmentPlan.Mih, Planner.ChooseRadius(Model, shape, new MihEstimate(maxProbes - 1, 0, true)).Plan);
        Assert.Equal(SegmentPlan.Scan, Planner.ChooseRadius(Model, shape, new MihEstimate(maxProbes + 1, 0, true)).Plan);
        PlanChoice none = Planner.ChooseRadius(Model, shape with { HasTables = false }, new MihEstimate(1, 1, true));
        Assert.Equal(SegmentPlan.Scan, none.Plan);
        Assert.True(double.IsNaN(none.MihNs));
    }

    [Fact]
    public void Exact_bucket_sizes_are_counted_only_near_the_crossover_and_a_run_may_read_what_the_scan_would_cost()
    {
        var shape = new SegmentShape(1_000_000, 1, HasTables: true, InlineCodes: true);
        double scan = Model.ScanNs(1_000_000, 1); // 300,000 ns
        long quarter = (long)((scan / 4) - (10 * Model.ProbeNs)) / (long)Model.PostingNs; // postings at a quarter of the scan, 10 probes
        Assert.False(Planner.CountExactly(Model, shape, new MihEstimate(10, quarter, false)));
        Assert.True(Planner.CountExactly(Model, shape, new MihEstimate(10, quarter + 1, false)));
        long probesAtShare = (long)(scan / Planner.CountingShare / Model.ProbeNs); // counting costs about the probes: at most 1/16 of the scan
        Assert.True(Planner.CountExactly(Model, shape, new MihEstimate(probesAtShare, quarter, false)));
        Assert.False(Planner.CountExactly(Model, shape, new MihEstimate(probesAtShare + 1, quarter, false)));
        Assert.Equal((long)(scan / Model.PostingNs), Planner.PostingBudget(Model, shape));
        Assert.Equal((long)(Model.ScanNs(1_000_000, 4) / Model.WidePostingNs), Planner.PostingBudget(Model, new SegmentShape(1_000_000, 4, true, false)));
    }

    [Fact]
    public void A_knn_search_goes_on_while_what_it_read_plus_the_next_ring_stays_within_the_scan()
    {
        var shape = new SegmentShape(1_000_000, 1, HasTables: true, InlineCodes: true);
        double scan = Model.ScanNs(1_000_000, 1); // 300,000 ns
        var spent = new MihCounters { Probes = 1000, Postings = 100_000 }; // 250,000 ns
        double room = scan - Model.MihNs(spent.Probes, spent.Postings, true); // 50,000 ns
        var fits = new MihKnnStep(Ring: 2, Table: 1, Probes: 100, ExpectedPostings: (room - (100 * Model.ProbeNs)) / Model.PostingNs, KthDistance: 12);
        var passes = fits with { ExpectedPostings = fits.ExpectedPostings + 1 };
        Assert.True(Planner.KnnProceeds(Model, shape, fits, spent));
        Assert.False(Planner.KnnProceeds(Model, shape, passes, spent));
        Assert.True(Planner.KnnProceeds(Model, shape, new MihKnnStep(0, 0, 1, 150, -1), default));
    }

    [Fact]
    public void Calibration_fit_recovers_the_costs_that_made_the_times_and_keeps_the_fallback_when_it_cannot()
    {
        var samples = new List<(double, double, double)>();
        foreach ((double p, double q) in new[] { (4.0, 500.0), (40.0, 3000.0), (300.0, 20_000.0), (2000.0, 90_000.0) })
        {
            samples.Add((p, q, (p * 70) + (q * 1.5)));
        }
        (double probe, double posting) = Calibration.FitNonNegative(samples, 1, 1);
        Assert.Equal(70, probe, 3);
        Assert.Equal(1.5, posting, 3);
        // Times that fall with reads cannot be fitted: the fallback stays.
        var nonsense = new List<(double, double, double)> { (1, 10, 100), (2, 20, 50), (3, 30, 10) };
        Assert.Equal((60.0, 2.0), Calibration.FitNonNegative(nonsense, 60, 2));
    }

    [Fact]
    public void Calibration_fits_the_posting_beside_a_measured_probe_and_keeps_the_fallback_when_it_cannot()
    {
        // Wide codes: probes and postings grow together (buckets of about one posting), the probe is measured apart.
        var samples = new List<(double, double, double)>();
        foreach ((double p, double q) in new[] { (9.0, 11.0), (150.0, 140.0), (3100.0, 3200.0), (73_000.0, 70_000.0) })
        {
            samples.Add((p, q, 2500 + (p * 120) + (q * 280))); // 2.5 us that every search costs, whatever it reads
        }
        Assert.Equal(280, Calibration.FitPostings(samples, 120, 40), 3);
        // A probe measured dearer than the whole searches leaves nothing to the postings: the fallback stays.
        Assert.Equal(40, Calibration.FitPostings(samples, 10_000, 40));
        Assert.Equal(40, Calibration.FitPostings([], 120, 40));
        Assert.Equal(40, Calibration.FitPostings([(10, 10, 5000), (10, 10, 5000)], 120, 40)); // one posting count: no slope
    }

    [Fact]
    public void Calibration_on_wide_codes_measures_the_probe_and_the_posting()
    {
        var random = new Random(7);
        output.WriteLine("seed 7");
        var layout = new CodeLayout(256);
        PackedCodes codes = TestData.Codes(random, layout, 50_000, 0);
        var index = new MihIndex(codes.Block, MihLayout.Choose(256, codes.Count), filterWords: true);
        CostModel model = Calibration.Measure(index, codes.Block, null, CostModel.Defaults);
        output.WriteLine(model.Source);
        Assert.StartsWith("measured on 50000 rows of 256 bits", model.Source, StringComparison.Ordinal);
        Assert.True(model.ProbeNs > 0 && model.ProbeNs != CostModel.Defaults.ProbeNs, model.Source);
        Assert.True(model.WidePostingNs > 0 && double.IsFinite(model.WidePostingNs), model.Source);
        Assert.Equal(CostModel.Defaults.PostingNs, model.PostingNs); // the inline posting is not what these tables have
    }
}
