namespace LlmApp.Gateway.Configuration;

internal static class TimerExtensions
{
    /// <summary>
    /// Sets a one-shot timer from its own callback, where the stream or call that owns it may have ended (and disposed
    /// it) meanwhile: then there is nothing left to time.
    /// </summary>
    public static void TryChange(this ITimer timer, TimeSpan dueTime)
    {
        try
        {
            timer.Change(dueTime, Timeout.InfiniteTimeSpan);
        }
        catch (ObjectDisposedException)
        {
            // The owner ended while the timer fired.
        }
    }
}
