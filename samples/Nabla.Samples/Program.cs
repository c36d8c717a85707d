using System.CommandLine;
using Nabla.Samples;

var device = new Option<string>("--device") { Description = "cpu or reference", DefaultValueFactory = _ => "cpu" };
var root = new RootCommand("Nabla samples: runnable workloads from SEEDS.md");
var linear = new Command("linear-regression", "Graph mode: fit y = 3x + 2 with gradient descent and print the loss falling");
linear.Options.Add(device);
linear.SetAction(r => LinearRegression.Run(ParseDevice(r.GetValue(device))));
root.Subcommands.Add(linear);

AddSample(W1SoftmaxRegression.Name, W1SoftmaxRegression.Description, W1SoftmaxRegression.Run);
AddSample(W2MnistMlp.Name, W2MnistMlp.Description, W2MnistMlp.Run);
var strategyOption = new Option<string>("--strategy") { Description = "mirrored (CPU replicas in this process), multi-worker (one replica per MPI process) or none", DefaultValueFactory = _ => "mirrored" };
strategyOption.AcceptOnlyFromAmong("mirrored", "multi-worker", "none");
var replicasOption = new Option<int>("--replicas") { Description = "Replicas of --strategy mirrored", DefaultValueFactory = _ => 2 };
AddSampleWith(W3DistributedLogistic.Name, W3DistributedLogistic.Description,
    (o, r) => W3DistributedLogistic.Run(o, r.GetValue(strategyOption)!, r.GetValue(replicasOption)), strategyOption, replicasOption);
AddSample(W4LinearRegression.Name, W4LinearRegression.Description, W4LinearRegression.Run);
AddSample(W5LogisticRegression.Name, W5LogisticRegression.Description, W5LogisticRegression.Run);
AddSample(W6PcaAutoencoder.Name, W6PcaAutoencoder.Description, W6PcaAutoencoder.Run);
AddSample(W7StackedAutoencoder.Name, W7StackedAutoencoder.Description, W7StackedAutoencoder.Run);
AddSample(W8ConvAutoencoder.Name, W8ConvAutoencoder.Description, W8ConvAutoencoder.Run);
AddSample(W9RecurrentAutoencoder.Name, W9RecurrentAutoencoder.Description, W9RecurrentAutoencoder.Run);
AddSample(W10DenoisingAutoencoder.Name, W10DenoisingAutoencoder.Description, W10DenoisingAutoencoder.Run);
AddSample(W11SparseAutoencoder.Name, W11SparseAutoencoder.Description, W11SparseAutoencoder.Run);
AddSample(W12DenoisingConvAutoencoder.Name, W12DenoisingConvAutoencoder.Description, W12DenoisingConvAutoencoder.Run);
AddSample(W13Vae.Name, W13Vae.Description, W13Vae.Run);
AddSample(W14ConvVae.Name, W14ConvVae.Description, W14ConvVae.Run);
AddSample(W15Dcgan.Name, W15Dcgan.Description, W15Dcgan.Run);
AddSample(W17LeNet.Name, W17LeNet.Description, W17LeNet.Run);
AddSample(W18Vgg16.Name, W18Vgg16.Description, W18Vgg16.Run);
var cdK = new Option<int>("--cd-k") { Description = "Gibbs steps per contrastive-divergence update (CD-k)", DefaultValueFactory = _ => 1 };
cdK.Validators.Add(r =>
{
    if (r.GetValueOrDefault<int>() < 1) r.AddError($"--cd-k must be at least 1, got {r.GetValueOrDefault<int>()}");
});
AddSampleWith(W23Rbm.Name, W23Rbm.Description, (o, r) => W23Rbm.Run(o, r.GetValue(cdK)), cdK);
AddSample(W19SpamConv1D.Name, W19SpamConv1D.Description, W19SpamConv1D.Run);
AddSample(W20SpamBiLstm.Name, W20SpamBiLstm.Description, W20SpamBiLstm.Run);
AddSample(W21Word2Vec.Name, W21Word2Vec.Description, W21Word2Vec.Run);
AddSample(W22SelfOrganisingMap.Name, W22SelfOrganisingMap.Description, W22SelfOrganisingMap.Run);
AddSample(W24Dqn.Name, W24Dqn.Description, W24Dqn.Run);
var checkMode = new Option<string>("--mode") { Description = "equivalence, throw, die, restore, scaling, scaling-plain or scaling-mirrored", Required = true };
var checkOut = new Option<string?>("--out") { Description = "Where the chief saves the final weights" };
var checkRank = new Option<int>("--rank") { Description = "throw: the rank that fails", DefaultValueFactory = _ => 1 };
var checkStep = new Option<int>("--step") { Description = "throw: the batch after which it fails", DefaultValueFactory = _ => 5 };
var checkSteps = new Option<int>("--steps") { Description = "scaling: steps to time", DefaultValueFactory = _ => 200 };
var checkBatch = new Option<int>("--batch") { Description = "scaling: global batch", DefaultValueFactory = _ => 512 };
var check = new Command(DistributedCheck.Name, "Multi-worker checks and benchmark, run under mpirun (used by the tests)") { checkMode, checkOut, checkRank, checkStep, checkSteps, checkBatch };
check.Hidden = true;
check.SetAction(r => DistributedCheck.Run(r.GetValue(checkMode)!, r.GetValue(checkOut), r.GetValue(checkRank), r.GetValue(checkStep), r.GetValue(checkSteps), r.GetValue(checkBatch)));
root.Subcommands.Add(check);
root.Subcommands.Add(OnnxGradCheckCommand.Create());
return root.Parse(args).Invoke();

// Every workload sample takes the same options and runs in-process through its Run(SampleOptions).
void AddSample(string name, string description, Func<SampleOptions, SampleResult> run) => AddSampleWith(name, description, (o, _) => run(o));

// A sample with options of its own beyond the common ones, read from the parse result.
void AddSampleWith(string name, string description, Func<SampleOptions, ParseResult, SampleResult> run, params Option[] extra)
{
    var epochs = new Option<int?>("--epochs") { Description = "Epochs to train (default: the workload's SEEDS.md figure)" };
    var batchSize = new Option<int?>("--batch-size") { Description = "Batch size (default: the workload's)" };
    var output = new Option<string>("--out") { Description = "Folder for PNGs and logs", DefaultValueFactory = _ => Path.Combine("samples-output", name) };
    var quick = new Option<bool>("--quick") { Description = "A few epochs on a subset of the data (a smoke test, not a result)" };
    var dev = new Option<string>("--device") { Description = "cpu or reference", DefaultValueFactory = _ => "cpu" };
    foreach (var positive in new[] { epochs, batchSize })
        positive.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is <= 0) r.AddError($"{positive.Name} must be positive, got {r.GetValueOrDefault<int?>()}");
        });
    dev.AcceptOnlyFromAmong("cpu", "reference");
    var command = new Command(name, description) { epochs, batchSize, output, quick, dev };
    foreach (var option in extra) command.Options.Add(option);
    command.SetAction(r =>
    {
        run(new SampleOptions(name, r.GetValue(epochs), r.GetValue(batchSize), r.GetValue(output), r.GetValue(quick), ParseDevice(r.GetValue(dev))), r);
        return 0;
    });
    root.Subcommands.Add(command);
}

static Nabla.Device ParseDevice(string? name) => name switch
{
    "cpu" => Nabla.Device.Cpu,
    "reference" => Nabla.Device.Reference,
    _ => throw new ArgumentException($"unknown device '{name}'; use cpu or reference", nameof(name)),
};
