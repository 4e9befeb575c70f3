namespace NativeGan;

/// <summary>
/// One GPU launch over many tensors (issue 40 item 4: fewer, wider launches). A network's parameters live in separate
/// buffers, so a per-tensor op (an optimizer update, a squared norm) costs one launch a tensor: ~10 a DCGAN network,
/// ~4 us each on an H100, more than the work. A multi-tensor kernel instead takes up to <see cref="ViewTable.Slots"/>
/// views as one struct parameter (<see cref="ViewTable"/>, generated) and runs one thread an element of their
/// concatenation; a thread finds its tensor by comparing its index with the slots' ends (<see cref="SlotEnds.SlotOf"/>,
/// 15 comparisons, no branch, no memory access) and its element by subtracting the slot's start. The thread's work is
/// then exactly the single-tensor kernel's, so the results are bit for bit those of one launch a tensor.
/// (The alternative, one flat buffer that the parameters are views of, would also make the gradients flat but reach
/// into every module, the autograd's gradient accumulation and the checkpoints; this stays inside the ops.)
/// </summary>
public static class MultiTensor
{
    /// <summary>
    /// The tensors cut into launches of at most <see cref="ViewTable.Slots"/>, none longer in total than int.MaxValue
    /// elements: each chunk is (first index, count, total elements). An empty tensor takes a slot and no thread.
    /// </summary>
    public static IEnumerable<(int First, int Count, int Total)> Chunks(IReadOnlyList<Tensor> tensors)
    {
        int first = 0;
        while (first < tensors.Count)
        {
            int count = 0;
            long total = 0;
            while (first + count < tensors.Count && count < ViewTable.Slots && total + tensors[first + count].Length <= int.MaxValue)
                total += tensors[first + count++].Length;
            if (count == 0) throw new ArgumentException($"MultiTensor: tensor {first} has {tensors[first].Length} elements, more than one launch can index");
            yield return (first, count, (int)total);
            first += count;
        }
    }

    /// <summary>The views of tensors [first, first + count) in slots 0..count-1; the unused slots repeat the last one (never read).</summary>
    public static ViewTable Views(IReadOnlyList<Tensor> tensors, int first, int count)
    {
        var table = new ViewTable();
        for (int k = 0; k < ViewTable.Slots; k++) table.Set(k, tensors[first + Math.Min(k, count - 1)].View);
        return table;
    }

    /// <summary>The running ends of tensors [first, first + count); int.MaxValue for the unused slots.</summary>
    public static SlotEnds Ends(IReadOnlyList<Tensor> tensors, int first, int count)
    {
        var ends = new SlotEnds();
        int end = 0;
        for (int k = 0; k < ViewTable.Slots; k++)
        {
            if (k < count) end += (int)tensors[first + k].Length;
            ends.Set(k, k < count ? end : int.MaxValue);
        }
        return ends;
    }
}
