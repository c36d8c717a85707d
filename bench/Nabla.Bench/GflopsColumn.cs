using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Nabla.Bench;

/// <summary>A BenchmarkDotNet column of GFLOP/s: the case's FLOP count (from its parameters) over its mean time.</summary>
/// <param name="id">Column id.</param>
/// <param name="legend">How the FLOPs are counted.</param>
/// <param name="flops">The FLOPs of one call of a case, or null when its parameters do not give them.</param>
internal sealed class GflopsColumn(string id, string legend, Func<BenchmarkCase, double?> flops) : IColumn
{
    public string Id => id;
    public string ColumnName => "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean is double ns && flops(benchmarkCase) is double f
            ? (f / ns).ToString("F1", CultureInfo.InvariantCulture)
            : "-";
}
