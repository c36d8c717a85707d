namespace Nabla.Samples.Rl;

/// <summary>
/// Experience replay (Lin 1992; Mnih et al. 2015, "Human-level control through deep reinforcement
/// learning"): a fixed-size ring of transitions (s, a, r, s′, terminal) from which minibatches are
/// drawn uniformly with replacement; once full, the oldest transition is overwritten.
/// </summary>
internal sealed class ReplayBuffer
{
    private readonly int _observationSize;
    private readonly float[] _observations, _nextObservations, _rewards, _terminals;
    private readonly int[] _actions;
    private int _next;

    public ReplayBuffer(int capacity, int observationSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(observationSize);
        Capacity = capacity;
        _observationSize = observationSize;
        _observations = new float[capacity * observationSize];
        _nextObservations = new float[capacity * observationSize];
        _rewards = new float[capacity];
        _terminals = new float[capacity];
        _actions = new int[capacity];
    }

    public int Capacity { get; }

    /// <summary>Transitions held (at most <see cref="Capacity"/>).</summary>
    public int Count { get; private set; }

    /// <summary>
    /// Stores one transition. <paramref name="terminal"/> is true only for a terminal state of the task,
    /// not for a time-limit truncation: a truncated episode's last state still has a value to bootstrap.
    /// </summary>
    public void Add(float[] observation, int action, double reward, float[] nextObservation, bool terminal)
    {
        if (observation.Length != _observationSize || nextObservation.Length != _observationSize)
            throw new ArgumentException($"ReplayBuffer: observations must have {_observationSize} values, got {observation.Length} and {nextObservation.Length}");
        observation.CopyTo(_observations, _next * _observationSize);
        nextObservation.CopyTo(_nextObservations, _next * _observationSize);
        _actions[_next] = action;
        _rewards[_next] = (float)reward;
        _terminals[_next] = terminal ? 1f : 0f;
        _next = (_next + 1) % Capacity;
        Count = Math.Min(Count + 1, Capacity);
    }

    /// <summary>Draws <paramref name="batchSize"/> transitions uniformly (with replacement) into <paramref name="batch"/>.</summary>
    /// <exception cref="InvalidOperationException">The buffer is empty.</exception>
    public void Sample(Random random, Batch batch)
    {
        if (Count == 0) throw new InvalidOperationException("ReplayBuffer: cannot sample from an empty buffer");
        var n = _observationSize;
        for (var i = 0; i < batch.Size; i++)
        {
            var j = random.Next(Count);
            Array.Copy(_observations, j * n, batch.Observations, i * n, n);
            Array.Copy(_nextObservations, j * n, batch.NextObservations, i * n, n);
            batch.Actions[i] = _actions[j];
            batch.Rewards[i] = _rewards[j];
            batch.Terminals[i] = _terminals[j];
        }
    }

    /// <summary>Reusable arrays for one minibatch: observations row-major [size, observationSize].</summary>
    internal sealed class Batch(int size, int observationSize)
    {
        public int Size { get; } = size;
        public float[] Observations { get; } = new float[size * observationSize];
        public float[] NextObservations { get; } = new float[size * observationSize];
        public int[] Actions { get; } = new int[size];
        public float[] Rewards { get; } = new float[size];
        public float[] Terminals { get; } = new float[size];
    }
}
