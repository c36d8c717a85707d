using BenchmarkDotNet.Running;

namespace Nabla.Bench;

/// <summary>Entry point: pick benchmarks with --filter, e.g. <c>dotnet run -c Release -- --filter '*Gemm*'</c>.</summary>
public static class Program
{
    /// <summary>Runs the benchmarks selected on the command line.</summary>
    public static void Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "--gemm-quick")
        {
            GemmQuick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--softmax-quick")
        {
            SoftmaxQuick.Run();
            return;
        }

        if (args.Length > 0 && args[0] == "--conv")
        {
            ConvQuick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--w2-profile")
        {
            W2Profile.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--w2-serve")
        {
            W2Serve.Run();
            return;
        }

        if (args.Length > 0 && args[0] == "--fuzz")
        {
            Environment.ExitCode = FuzzCommand.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--rnn-quick")
        {
            RnnQuick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--onnx-quick")
        {
            OnnxBenchmarks.Quick(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--pool-quick")
        {
            PoolingQuick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--model-profile")
        {
            ModelProfile.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--epilogue-quick")
        {
            EpilogueQuick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--fusion-quick")
        {
            FusionQuick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--text-quick")
        {
            TextQuick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--w19-quick")
        {
            W19Quick.Run(args[1..]);
            return;
        }

        if (args.Length > 0 && args[0] == "--w2-memory")
        {
            W2Memory.Run();
            return;
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
    }
}
